"""Unit tests for refreshing the canonical values of kept entity rows (ner/stage.py)."""

import polars as pl
import pytest

from shopgraph.domain.ner.merge import canonical_value
from shopgraph.ner.extract import PRODUCT_ENTITIES_SCHEMA, TEXT
from shopgraph.ner.stage import refreshed_canonical
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T

pytestmark = pytest.mark.unit


def test_each_row_gets_the_current_catalog_value_in_order() -> None:
    lookup = {("brand", "acme"): "ACME Co", ("colour", "red"): "red"}
    rows = pl.DataFrame(
        {
            L.PRODUCT_ID: ["p3", "p1", "p2", "p1"],
            T.FIELD: ["title"] * 4,
            T.START: [0, 0, 4, 9],
            T.END: [4, 3, 8, 12],
            T.ENTITY_TYPE: ["brand", "colour", "brand", "colour"],
            TEXT: ["Acme", "Red", "acme", "  Teal "],
            T.VALUE: ["stale", "stale", "stale", "stale"],
            "confidence": [0.9, 0.8, 0.7, 0.6],
            "model_version": ["v1"] * 4,
        },
        schema=PRODUCT_ENTITIES_SCHEMA,
    )

    refreshed = refreshed_canonical(rows, lookup, PRODUCT_ENTITIES_SCHEMA)

    assert refreshed.schema == PRODUCT_ENTITIES_SCHEMA
    assert refreshed.get_column(L.PRODUCT_ID).to_list() == ["p3", "p1", "p2", "p1"]  # order kept
    expected = [canonical_value(lookup, kind, text) for kind, text in rows.select(T.ENTITY_TYPE, TEXT).rows()]
    assert refreshed.get_column(T.VALUE).to_list() == expected == ["ACME Co", "red", "ACME Co", "teal"]
    assert refreshed.drop(T.VALUE).equals(rows.drop(T.VALUE))
