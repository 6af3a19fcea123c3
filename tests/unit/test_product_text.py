"""The product text recipe and its content hash."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import polars as pl
import pytest

from shopgraph.domain.product_text import (
    CONTENT_HASH,
    PRODUCT_TEXT,
    ProductTextError,
    compose_product_text,
    hash_text,
)
from shopgraph.schemas import landing as L

pytestmark = pytest.mark.unit


def _products(**overrides: list[object]) -> pl.DataFrame:
    columns: dict[str, list[object]] = {
        L.PRODUCT_ID: ["P1", "P2"],
        L.TITLE: ["Red  mesh trainers.", "Laptop"],
        L.DESCRIPTION: ["Light and\n comfy.", None],
        L.BRAND: ["Solvej", None],
        L.CATEGORY_PATH: ["Shoes > Sneakers", "Electronics > Laptops"],
        L.PRICE: [59.0, 999.0],
        L.CURRENCY: ["EUR", "EUR"],
        L.COLOUR: ["red", None],
        L.MATERIAL: [None, None],
        L.SIZE: ["EU 37", ""],
        L.STYLE: [None, None],
        L.ATTRIBUTES: [[{"key": "width", "value": "wide"}], []],
        L.UPDATED_AT: [datetime(2026, 1, 1, tzinfo=UTC)] * 2,
    }
    columns.update(overrides)
    schema = {name: dtype for name, dtype in L.PRODUCTS_SCHEMA.items() if name in columns}
    return pl.DataFrame(columns, schema=schema)


def test_text_joins_parts_and_attributes_skipping_empty_ones() -> None:
    texts = compose_product_text(_products())
    assert texts.columns == [L.PRODUCT_ID, PRODUCT_TEXT, CONTENT_HASH]
    assert texts.get_column(PRODUCT_TEXT).to_list() == [
        "Red mesh trainers. Solvej. Shoes > Sneakers. Light and comfy. colour: red; size: EU 37; width: wide",
        "Laptop. Electronics > Laptops",
    ]


def test_hash_is_sha256_of_the_text() -> None:
    texts = compose_product_text(_products())
    for text, digest in texts.select(PRODUCT_TEXT, CONTENT_HASH).iter_rows():
        assert digest == hashlib.sha256(text.encode()).hexdigest() == hash_text(text)


@pytest.mark.parametrize(
    ("column", "value", "changes"),
    [
        (L.TITLE, ["Blue mesh trainers", "Laptop"], True),
        (L.BRAND, ["Other", None], True),
        (L.ATTRIBUTES, [[{"key": "width", "value": "narrow"}], []], True),
        (L.COLOUR, ["blue", None], True),
        (L.PRICE, [10.0, 999.0], False),
        (L.UPDATED_AT, [datetime(2026, 2, 1, tzinfo=UTC)] * 2, False),
        (L.TITLE, ["Red mesh   trainers", "Laptop"], False),
    ],
)
def test_hash_changes_exactly_with_the_embedded_text(column: str, value: list[object], changes: bool) -> None:
    before = compose_product_text(_products()).get_column(CONTENT_HASH)
    after = compose_product_text(_products(**{column: value})).get_column(CONTENT_HASH)
    assert (before[0] != after[0]) is changes
    assert before[1] == after[1]


def test_missing_and_mistyped_columns_are_named_together() -> None:
    frame = _products().drop(L.BRAND).with_columns(pl.col(L.TITLE).cast(pl.Categorical))
    with pytest.raises(ProductTextError, match=r"brand missing.*|.*title is Categorical") as error:
        compose_product_text(frame)
    assert "brand missing" in str(error.value)
    assert "title is Categorical" in str(error.value)


def test_extra_columns_are_ignored_and_empty_frame_works() -> None:
    frame = _products().with_columns(pl.lit(True).alias("extra"))
    assert compose_product_text(frame).height == 2
    assert compose_product_text(frame.head(0)).height == 0
