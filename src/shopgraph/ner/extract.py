"""Batched NER inference over products and queries, and the merge with catalog attributes."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from shopgraph.adapters.model_source import choose_device
from shopgraph.adapters.registry import alias_version, download_model, model_uri, registry_client
from shopgraph.domain.ner.examples import text_examples
from shopgraph.domain.ner.labels import TEXT_FIELDS, TYPE_COLUMNS
from shopgraph.domain.ner.merge import Lookup, canonical_value
from shopgraph.ner.model import NerModel, load_model, predict_spans
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T

TEXT, CONFIDENCE, MODEL_VERSION = "text", "confidence", "model_version"
# enriched/product_entities: one row per entity span found in a product's title or description.
PRODUCT_ENTITIES_SCHEMA = pl.Schema(
    {
        L.PRODUCT_ID: pl.String(),
        T.FIELD: pl.String(),
        T.START: pl.Int32(),
        T.END: pl.Int32(),
        T.ENTITY_TYPE: pl.String(),
        TEXT: pl.String(),
        T.VALUE: pl.String(),
        CONFIDENCE: pl.Float64(),
        MODEL_VERSION: pl.String(),
    }
)
# enriched/query_entities: the same for search queries, keyed by the query text.
QUERY_ENTITIES_SCHEMA = pl.Schema(
    {
        L.QUERY: pl.String(),
        **{k: v for k, v in PRODUCT_ENTITIES_SCHEMA.items() if k not in (L.PRODUCT_ID, T.FIELD)},
    }
)
Progress = Callable[[int, int], None]


@dataclass
class LoadedNer:
    """A model ready for inference and the version string written beside its outputs."""

    ner: NerModel
    version: str


def load_ner(uri: str, tracking_uri: str, device: str = "auto", cache: Path | None = None) -> LoadedNer:
    """Load models:/<name>@<alias> (or models:/<name>/<n>, runs:/...) from MLflow, or a local folder."""
    if Path(uri).is_dir():
        return LoadedNer(load_model(Path(uri), choose_device(device)), f"local:{Path(uri).resolve().name}")
    version = uri
    if uri.startswith("models:/") and "@" in uri:
        name, _, alias = uri.removeprefix("models:/").partition("@")
        found = alias_version(registry_client(tracking_uri), name, alias)
        if found is not None:
            version = f"{name}/{found.version}"
    # Weights are in memory once loaded, so the downloaded copy goes away with the temporary folder.
    with tempfile.TemporaryDirectory(prefix="shopgraph-ner-model-", dir=cache) as folder:
        ner = load_model(download_model(uri, tracking_uri, Path(folder)), choose_device(device))
    return LoadedNer(ner, version)


def default_model_uri(registered_model: str, alias: str, configured: str = "") -> str:
    """The configured model URI or folder, else models:/<registered_model>@<alias>."""
    return configured or model_uri(registered_model, alias)


def product_entities(
    loaded: LoadedNer,
    products: pl.DataFrame,
    lookup: Lookup,
    batch_size: int,
    fields: Sequence[str] = TEXT_FIELDS,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Entity spans (PRODUCT_ENTITIES_SCHEMA) in the products' text fields, with canonical values.

    Reads product_id and the fields (title, description).
    """
    examples = text_examples(products, None, fields)
    rows = [
        (key, field, start, end, kind, text, canonical_value(lookup, kind, text), confidence, loaded.version)
        for key, field, start, end, kind, text, confidence in predict_spans(
            loaded.ner, examples, batch_size, progress
        )
    ]
    return pl.DataFrame(rows, schema=PRODUCT_ENTITIES_SCHEMA, orient="row").sort(
        L.PRODUCT_ID, T.FIELD, T.START
    )


def query_entities(
    loaded: LoadedNer,
    queries: Sequence[str],
    lookup: Lookup,
    batch_size: int,
    progress: Progress | None = None,
) -> pl.DataFrame:
    """Entity spans (QUERY_ENTITIES_SCHEMA) of distinct search queries."""
    frame = pl.DataFrame({L.QUERY: sorted(set(queries))}, schema={L.QUERY: pl.String()})
    examples = text_examples(frame, None, fields=(L.QUERY,), col_key=L.QUERY)
    rows = [
        (key, start, end, kind, text, canonical_value(lookup, kind, text), confidence, loaded.version)
        for key, _, start, end, kind, text, confidence in predict_spans(
            loaded.ner, examples, batch_size, progress
        )
    ]
    return pl.DataFrame(rows, schema=QUERY_ENTITIES_SCHEMA, orient="row").sort(L.QUERY, T.START)


def known_values(products: pl.DataFrame) -> dict[str, list[str]]:
    """Distinct catalog values per entity type (brand, category path, colour, ...) for canonical lookups."""
    return {
        entity_type: products.get_column(column).drop_nulls().unique().sort().to_list()
        for entity_type, column in TYPE_COLUMNS.items()
        if column in products.columns
    }
