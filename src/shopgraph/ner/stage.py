"""The NER stage on the lake: train from curated products, extract entities and merge attributes."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import polars as pl

from shopgraph.adapters.lake import landing_files, read_parquet
from shopgraph.domain.ner.merge import canonical_lookup, catalog_attributes, merge_attributes
from shopgraph.ner.extract import default_model_uri, known_values, load_ner, product_entities, query_entities
from shopgraph.ner.io import read_curated_products, read_synonyms, write_table
from shopgraph.ner.train import Report, TrainConfig, TrainResult, train_ner
from shopgraph.schemas import landing as L
from shopgraph.schemas.lake_layout import PRODUCT_ATTRIBUTES, PRODUCT_ENTITIES, QUERY_ENTITIES
from shopgraph.settings import Settings

Progress = Callable[[str, int, int], None]


@dataclass
class ExtractSummary:
    """What an extraction wrote: row counts and the files of each enriched table."""

    model_version: str
    products: int
    entities: int
    attributes: int
    ner_attributes: int
    queries: int
    query_entities: int
    files: dict[str, list[str]] = field(default_factory=dict)


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


def landing_queries(lake_root: str) -> list[str]:
    """Distinct search queries of landing/search_judgments (all partitions); empty when there are none."""
    files = landing_files(lake_root, L.SEARCH_JUDGMENTS)
    if not files:
        return []
    queries = pl.concat([read_parquet(f).select(L.QUERY) for f in files])
    return sorted(queries.get_column(L.QUERY).drop_nulls().unique().to_list())


def extract_from_lake(
    settings: Settings,
    lake_root: str | None = None,
    model: str | None = None,
    with_queries: bool = True,
    progress: Progress | None = None,
) -> ExtractSummary:
    """Tag every curated product (and the landing queries), write enriched/product_entities,
    enriched/query_entities and enriched/product_attributes (catalog merged with NER)."""
    root = lake_root or settings.lake_root
    ner = settings.ner
    uri = model or default_model_uri(ner.registered_model, ner.champion_alias, ner.model_uri)
    loaded = load_ner(uri, settings.mlflow.resolved_tracking_uri, ner.device)
    products = read_curated_products(root)
    lookup = canonical_lookup(read_synonyms(ner.synonyms), known_values(products))

    def step(name: str) -> Callable[[int, int], None] | None:
        return None if progress is None else (lambda done, total: progress(name, done, total))

    entities = product_entities(loaded, products, lookup, ner.inference_batch_size, progress=step("products"))
    catalog = catalog_attributes(products, ner.attribute_types)
    attributes = merge_attributes(catalog, entities, ner.min_confidence)
    files = {
        "product_entities": write_table(root, PRODUCT_ENTITIES, entities),
        "product_attributes": write_table(root, PRODUCT_ATTRIBUTES, attributes),
    }
    queries = landing_queries(root) if with_queries else []
    found_in_queries = query_entities(loaded, queries, lookup, ner.inference_batch_size, step("queries"))
    if with_queries:
        files["query_entities"] = write_table(root, QUERY_ENTITIES, found_in_queries)
    return ExtractSummary(
        model_version=loaded.version,
        products=products.height,
        entities=entities.height,
        attributes=attributes.height,
        ner_attributes=attributes.filter(pl.col("source") == "ner").height,
        queries=len(queries),
        query_entities=found_in_queries.height,
        files=files,
    )
