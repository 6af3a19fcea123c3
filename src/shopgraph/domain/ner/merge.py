"""Canonical values for found spans, and NER attributes merged with catalog attributes for the graph."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import polars as pl

from shopgraph.domain.ner.labels import TYPE_COLUMNS, Synonyms, category_leaf
from shopgraph.domain.ner.text import normalise_value
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T

SOURCE, CONFIDENCE = "source", "confidence"
SOURCE_CATALOG, SOURCE_NER = "catalog", "ner"
ATTRIBUTE_SCHEMA = pl.Schema(
    {
        L.PRODUCT_ID: pl.String(),
        T.ENTITY_TYPE: pl.String(),
        T.VALUE: pl.String(),
        SOURCE: pl.String(),
        CONFIDENCE: pl.Float64(),
    }
)
# Types whose values keep their case when no canonical form is known ("EU 42", "XL").
CASED_TYPES = frozenset({T.ENTITY_SIZE, T.ENTITY_BRAND})

Lookup = dict[tuple[str, str], str]


def canonical_lookup(synonyms: Synonyms, known_values: Mapping[str, Iterable[str]]) -> Lookup:
    """(type, normalised surface) -> canonical value, from the synonyms and the catalog's own values.

    A category is known by its path; its leaf and the leaf's synonyms map to that path.
    """
    lookup: Lookup = {}
    for entity_type, forms_by_value in synonyms.items():
        for canonical, forms in forms_by_value.items():
            for form in [canonical, *forms]:
                lookup.setdefault((entity_type, normalise_value(form)), canonical)
    for entity_type, values in known_values.items():
        for value in values:
            if entity_type == T.ENTITY_CATEGORY:
                leaf = category_leaf(value)
                for form in [leaf, *synonyms.get(T.ENTITY_CATEGORY, {}).get(leaf, [])]:
                    lookup[(entity_type, normalise_value(form))] = value
            else:
                lookup[(entity_type, normalise_value(value))] = value
    return lookup


def canonical_value(lookup: Lookup, entity_type: str, surface: str) -> str:
    """The canonical value of a found span; unknown surfaces come back trimmed (lower case for most types)."""
    found = lookup.get((entity_type, normalise_value(surface)))
    if found is not None:
        return found
    text = " ".join(surface.split())
    return text if entity_type in CASED_TYPES else text.lower()


def catalog_attributes(
    products: pl.DataFrame, attribute_types: Mapping[str, str] | None = None
) -> pl.DataFrame:
    """Catalog values as ATTRIBUTE_SCHEMA rows with source `catalog` and confidence 1.0.

    Reads product_id, brand, category_path (the category value), colour, material, size, style and, for the
    keys attribute_types maps to a type, attributes.
    """
    frames = [
        products.select(
            pl.col(L.PRODUCT_ID), pl.lit(entity_type).alias(T.ENTITY_TYPE), pl.col(column).alias(T.VALUE)
        )
        for entity_type, column in TYPE_COLUMNS.items()
        if column in products.columns
    ]
    if attribute_types and L.ATTRIBUTES in products.columns:
        pairs = products.select(L.PRODUCT_ID, L.ATTRIBUTES).explode(L.ATTRIBUTES).unnest(L.ATTRIBUTES)
        frames.append(
            pairs.filter(pl.col(L.ATTRIBUTE_KEY).is_in(list(attribute_types))).select(
                pl.col(L.PRODUCT_ID),
                pl.col(L.ATTRIBUTE_KEY).replace_strict(dict(attribute_types)).alias(T.ENTITY_TYPE),
                pl.col(L.ATTRIBUTE_VALUE).alias(T.VALUE),
            )
        )
    if not frames:
        return pl.DataFrame(schema=ATTRIBUTE_SCHEMA)
    return (
        pl.concat(frames)
        .filter(pl.col(T.VALUE).is_not_null() & (pl.col(T.VALUE).str.strip_chars() != ""))
        .unique(maintain_order=True)
        .with_columns(pl.lit(SOURCE_CATALOG).alias(SOURCE), pl.lit(1.0).alias(CONFIDENCE))
        .select(list(ATTRIBUTE_SCHEMA))
        .cast(dict(ATTRIBUTE_SCHEMA))  # type: ignore[arg-type]
    )


def merge_attributes(
    catalog: pl.DataFrame, entities: pl.DataFrame, min_confidence: float = 0.0
) -> pl.DataFrame:
    """Catalog attributes plus NER values for the (product, type) pairs the catalog leaves empty.

    Reads ATTRIBUTE_SCHEMA catalog rows and entity rows (product_id, type, value, confidence); one NER
    row per (product_id, type, value) with its best confidence, kept when >= min_confidence. The catalog
    wins wherever it has a value of that type, so NER never contradicts what the seller registered.
    Writes ATTRIBUTE_SCHEMA sorted by product_id, type, source, value.
    """
    found = (
        entities.filter(pl.col(CONFIDENCE) >= min_confidence)
        .group_by(L.PRODUCT_ID, T.ENTITY_TYPE, T.VALUE)
        .agg(pl.col(CONFIDENCE).max())
        .join(
            catalog.select(L.PRODUCT_ID, T.ENTITY_TYPE).unique(), on=[L.PRODUCT_ID, T.ENTITY_TYPE], how="anti"
        )
        .with_columns(pl.lit(SOURCE_NER).alias(SOURCE))
        .select(list(ATTRIBUTE_SCHEMA))
        .cast(dict(ATTRIBUTE_SCHEMA))  # type: ignore[arg-type]
    )
    return pl.concat([catalog.select(list(ATTRIBUTE_SCHEMA)), found]).sort(
        L.PRODUCT_ID, T.ENTITY_TYPE, SOURCE, T.VALUE
    )
