"""Canonical values of found spans, catalog attributes, and the catalog + NER merge; promotion rule."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from shopgraph.domain.ner.merge import (
    ATTRIBUTE_SCHEMA,
    canonical_lookup,
    canonical_value,
    catalog_attributes,
    merge_attributes,
)
from shopgraph.domain.ner.promotion import decide_promotion

pytestmark = pytest.mark.unit

SYNONYMS = {"colour": {"grey": ["gray", "charcoal grey"]}, "category": {"Tops": ["blouse"]}}


def test_canonical_values() -> None:
    lookup = canonical_lookup(
        SYNONYMS, {"brand": ["Maison Lumière"], "category": ["Clothing > Women > Tops"]}
    )
    assert canonical_value(lookup, "colour", "Charcoal-Grey") == "grey"
    assert canonical_value(lookup, "brand", "MAISON LUMIERE") == "Maison Lumière"
    assert canonical_value(lookup, "category", "Blouses") == "Clothing > Women > Tops"
    assert canonical_value(lookup, "category", "top") == "Clothing > Women > Tops"
    assert canonical_value(lookup, "colour", " Teal  Blue ") == "teal blue"
    assert canonical_value(lookup, "size", "EU 43") == "EU 43"


PRODUCTS = pl.DataFrame(
    {
        "product_id": ["P1", "P2"],
        "brand": ["Kaia", None],
        "category_path": ["Clothing > Women > Tops", "Home > Decor > Lamps"],
        "colour": [None, "white"],
        "material": [None, None],
        "size": ["M", None],
        "style": [None, ""],
        "attributes": [[{"key": "pattern", "value": "striped"}], [{"key": "care", "value": "wipe clean"}]],
    }
)


def attributes(rows: list[tuple[str, str, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ATTRIBUTE_SCHEMA, orient="row")


def test_catalog_attributes() -> None:
    found = catalog_attributes(PRODUCTS, {"pattern": "pattern"}).sort("product_id", "type")
    expected = attributes(
        [
            ("P1", "brand", "Kaia", "catalog", 1.0),
            ("P1", "category", "Clothing > Women > Tops", "catalog", 1.0),
            ("P1", "pattern", "striped", "catalog", 1.0),
            ("P1", "size", "M", "catalog", 1.0),
            ("P2", "category", "Home > Decor > Lamps", "catalog", 1.0),
            ("P2", "colour", "white", "catalog", 1.0),
        ]
    )
    assert_frame_equal(found, expected)


def test_merge_keeps_catalog_and_fills_gaps() -> None:
    catalog = catalog_attributes(PRODUCTS)
    entities = pl.DataFrame(
        [
            ("P1", "colour", "navy", 0.9),  # fills the gap
            ("P1", "colour", "navy", 0.7),  # same value again: best confidence kept
            ("P1", "brand", "Basix", 0.99),  # contradicts the catalog: dropped
            ("P1", "material", "silk", 0.3),  # under the threshold
            ("P2", "brand", "Kasa", 0.8),
        ],
        schema={"product_id": pl.String, "type": pl.String, "value": pl.String, "confidence": pl.Float64},
        orient="row",
    )
    merged = merge_attributes(catalog, entities, min_confidence=0.5)
    expected = attributes(
        [
            ("P1", "brand", "Kaia", "catalog", 1.0),
            ("P1", "category", "Clothing > Women > Tops", "catalog", 1.0),
            ("P1", "colour", "navy", "ner", 0.9),
            ("P1", "size", "M", "catalog", 1.0),
            ("P2", "brand", "Kasa", "ner", 0.8),
            ("P2", "category", "Home > Decor > Lamps", "catalog", 1.0),
            ("P2", "colour", "white", "catalog", 1.0),
        ]
    )
    assert_frame_equal(merged, expected)


@pytest.mark.parametrize(
    ("challenger", "champion", "margin", "promote"),
    [
        (0.5, None, 0.0, True),
        (0.8, 0.7, 0.0, True),
        (0.7, 0.7, 0.0, False),
        (0.6, 0.7, 0.0, False),
        (0.75, 0.7, 0.1, False),
    ],
)
def test_decide_promotion(challenger: float, champion: float | None, margin: float, promote: bool) -> None:
    decision = decide_promotion(challenger, champion, margin)
    assert decision.promote is promote
    assert decision.outcome == ("promoted" if promote else "kept")
