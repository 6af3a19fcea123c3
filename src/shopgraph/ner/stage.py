"""The NER stage on the lake: train from curated products, extract entities and merge attributes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import polars as pl

from shopgraph.adapters.lake import lake_path, landing_files, partition_files, read_parquet, read_parts
from shopgraph.domain.ner.incremental import MODEL_VERSION, text_hashes, to_tag
from shopgraph.domain.ner.labels import TEXT_FIELDS
from shopgraph.domain.ner.merge import (
    Lookup,
    canonical_lookup,
    canonical_value,
    catalog_attributes,
    merge_attributes,
)
from shopgraph.ner.extract import (
    PRODUCT_ENTITIES_SCHEMA,
    QUERY_ENTITIES_SCHEMA,
    TEXT,
    LoadedNer,
    default_model_uri,
    known_values,
    load_ner,
    product_entities,
    query_entities,
)
from shopgraph.ner.io import read_curated_products, read_synonyms, write_table
from shopgraph.ner.train import Report, TrainConfig, TrainResult, train_ner
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T
from shopgraph.schemas.lake_layout import (
    NER_TAGGED,
    PRODUCT_ATTRIBUTES,
    PRODUCT_ENTITIES,
    QUERY_ENTITIES,
    QUERY_NER_TAGGED,
)
from shopgraph.settings import Settings

Progress = Callable[[str, int, int], None]
TAGGED_QUERY_SCHEMA = pl.Schema({L.QUERY: pl.String(), MODEL_VERSION: pl.String()})


@dataclass
class ExtractSummary:
    """What an extraction wrote: row counts and the files of each enriched table."""

    model_version: str
    products: int
    tagged: int  # products run through the model this time (the others kept their earlier entities)
    entities: int
    attributes: int
    ner_attributes: int
    queries: int
    query_entities: int
    files: dict[str, list[str]] = field(default_factory=dict)
    queries_tagged: int = 0  # queries run through the model this time (the others kept their entities)


def train_from_lake(
    settings: Settings,
    config: TrainConfig,
    lake_root: str | None = None,
    report: Report | None = None,
    run_tags: Mapping[str, str] | None = None,
) -> TrainResult:
    """Train on the lake's curated products with the configured synonyms, tracked at the MLflow URI."""
    products = read_curated_products(lake_root or settings.lake_root)
    synonyms = read_synonyms(settings.ner.synonyms)
    return train_ner(products, synonyms, config, settings.mlflow.resolved_tracking_uri, report, run_tags)


def read_lake_table(lake_root: str, parts: tuple[str, ...]) -> pl.DataFrame | None:
    """An enriched table written by write_table, or None before its first write."""
    return read_parts(partition_files(lake_path(lake_root, *parts)))


def refreshed_canonical(rows: pl.DataFrame, lookup: Lookup, schema: pl.Schema) -> pl.DataFrame:
    """Kept entity rows with their canonical value looked up again (the catalog may have changed).

    Reads entity_type and text; writes value; returns the columns of schema.
    """
    # Each distinct (type, text) once: a catalog repeats the same few surfaces across 100k+ rows.
    distinct = rows.select(T.ENTITY_TYPE, TEXT).unique()
    canonical = [
        canonical_value(lookup, kind, text)
        for kind, text in zip(distinct.get_column(T.ENTITY_TYPE), distinct.get_column(TEXT), strict=True)
    ]
    values = distinct.with_columns(pl.Series(T.VALUE, canonical, dtype=pl.String))
    refreshed = rows.drop(T.VALUE, strict=False).join(
        values, on=[T.ENTITY_TYPE, TEXT], how="left", maintain_order="left", nulls_equal=True
    )
    return refreshed.select(schema.names())


def kept_entities(
    before: pl.DataFrame | None, current: pl.DataFrame, retagged: pl.Series, lookup: Lookup
) -> pl.DataFrame:
    """Earlier entity rows of current products that are not tagged again, canonical values refreshed.

    Reads product_id of current; writes PRODUCT_ENTITIES_SCHEMA rows.
    """
    if before is None:
        return pl.DataFrame(schema=PRODUCT_ENTITIES_SCHEMA)
    keep = current.filter(~pl.col(L.PRODUCT_ID).is_in(retagged.implode())).get_column(L.PRODUCT_ID)
    rows = before.filter(pl.col(L.PRODUCT_ID).is_in(keep.implode()))
    return refreshed_canonical(rows, lookup, PRODUCT_ENTITIES_SCHEMA)


def landing_queries(lake_root: str) -> list[str]:
    """Distinct search queries of landing/search_judgments (all partitions); empty when there are none."""
    files = landing_files(lake_root, L.SEARCH_JUDGMENTS)
    if not files:
        return []
    queries = pl.concat([read_parquet(f).select(L.QUERY) for f in files])
    return sorted(queries.get_column(L.QUERY).drop_nulls().unique().to_list())


def tag_queries(
    root: str,
    loaded: LoadedNer,
    queries: list[str],
    lookup: Lookup,
    batch_size: int,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pl.DataFrame, int]:
    """Entities of the queries (QUERY_ENTITIES_SCHEMA) and how many went through the model.

    Only queries this model version has not tagged yet (enriched/query_ner_tagged) run through it; the
    others keep their earlier rows of enriched/query_entities with canonical values refreshed, so a night
    with a few new queries does not tag every query again.
    """
    tagged = read_lake_table(root, QUERY_NER_TAGGED)
    before = read_lake_table(root, QUERY_ENTITIES)
    done: set[str] = set()
    if tagged is not None and before is not None:
        done = set(tagged.filter(pl.col(MODEL_VERSION) == loaded.version).get_column(L.QUERY).to_list())
    fresh_queries = [query for query in queries if query not in done]
    fresh = query_entities(loaded, fresh_queries, lookup, batch_size, progress)
    kept = pl.DataFrame(schema=QUERY_ENTITIES_SCHEMA)
    if before is not None and done:
        rows = before.filter(pl.col(L.QUERY).is_in(sorted(done.intersection(queries))))
        kept = refreshed_canonical(rows, lookup, QUERY_ENTITIES_SCHEMA)
    return pl.concat([kept, fresh]).sort(L.QUERY, T.START, maintain_order=True), len(fresh_queries)


def extract_from_lake(
    settings: Settings,
    lake_root: str | None = None,
    model: str | None = None,
    with_queries: bool = True,
    progress: Progress | None = None,
) -> ExtractSummary:
    """Tag the curated products whose text or model changed since their last tagging (and the landing
    queries); write enriched/product_entities, enriched/ner_tagged, enriched/query_entities and
    enriched/product_attributes (catalog merged with NER). Unchanged products keep their entities, with
    canonical values looked up again against the current catalog."""
    root = lake_root or settings.lake_root
    ner = settings.ner
    uri = model or default_model_uri(ner.registered_model, ner.champion_alias, ner.model_uri)
    loaded = load_ner(uri, settings.mlflow.resolved_tracking_uri, ner.device)
    products = read_curated_products(root)
    lookup = canonical_lookup(read_synonyms(ner.synonyms), known_values(products))

    def step(name: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda done, total: progress(name, done, total))

    hashes = text_hashes(products, TEXT_FIELDS)
    before = read_lake_table(root, PRODUCT_ENTITIES)
    wanted = to_tag(hashes, read_lake_table(root, NER_TAGGED) if before is not None else None, loaded.version)
    fresh = product_entities(
        loaded,
        products.filter(pl.col(L.PRODUCT_ID).is_in(wanted.implode())),
        lookup,
        ner.inference_batch_size,
        progress=step("products"),
    )
    entities = pl.concat([kept_entities(before, hashes, wanted, lookup), fresh]).sort(
        L.PRODUCT_ID, T.FIELD, T.START
    )
    catalog = catalog_attributes(products, ner.attribute_types)
    attributes = merge_attributes(catalog, entities, ner.min_confidence)
    files = {
        "product_entities": write_table(root, PRODUCT_ENTITIES, entities),
        "product_attributes": write_table(root, PRODUCT_ATTRIBUTES, attributes),
        "ner_tagged": write_table(
            root, NER_TAGGED, hashes.with_columns(pl.lit(loaded.version).alias(MODEL_VERSION))
        ),
    }
    queries = landing_queries(root) if with_queries else []
    found_in_queries, queries_tagged = pl.DataFrame(schema=QUERY_ENTITIES_SCHEMA), 0
    if with_queries:
        found_in_queries, queries_tagged = tag_queries(
            root, loaded, queries, lookup, ner.inference_batch_size, step("queries")
        )
        files["query_entities"] = write_table(root, QUERY_ENTITIES, found_in_queries)
        files["query_ner_tagged"] = write_table(
            root,
            QUERY_NER_TAGGED,
            pl.DataFrame({L.QUERY: queries, MODEL_VERSION: loaded.version}, schema=TAGGED_QUERY_SCHEMA),
        )
    return ExtractSummary(
        model_version=loaded.version,
        products=products.height,
        tagged=wanted.len(),
        entities=entities.height,
        attributes=attributes.height,
        ner_attributes=attributes.filter(pl.col("source") == "ner").height,
        queries=len(queries),
        query_entities=found_in_queries.height,
        files=files,
        queries_tagged=queries_tagged,
    )
