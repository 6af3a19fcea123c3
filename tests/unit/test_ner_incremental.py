"""Incremental NER: only products whose text or model changed are tagged again."""

from __future__ import annotations

import polars as pl
import pytest

from shopgraph.domain.ner.incremental import MODEL_VERSION, text_hashes, to_tag

pytestmark = pytest.mark.unit
FIELDS = ("title", "description")


def products(titles: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "product_id": [f"p{i}" for i in range(len(titles))],
            "title": titles,
            "description": ["d"] * len(titles),
        }
    )


def test_hash_follows_the_text_fields_and_treats_nulls_as_empty() -> None:
    first = text_hashes(products(["Red boot", None]), FIELDS)
    assert first["text_hash"].n_unique() == 2
    assert text_hashes(products(["Red boot", ""]), FIELDS).equals(first)
    assert text_hashes(products(["Red boots", None]), FIELDS)["text_hash"][0] != first["text_hash"][0]


def test_only_changed_new_or_differently_modelled_products_are_tagged() -> None:
    before = text_hashes(products(["a", "b", "c"]), FIELDS).with_columns(pl.lit("ner/1").alias(MODEL_VERSION))
    now = text_hashes(products(["a", "B", "c", "new"]), FIELDS)
    assert to_tag(now, before, "ner/1").to_list() == ["p1", "p3"]
    assert to_tag(now, before, "ner/2").to_list() == ["p0", "p1", "p2", "p3"]
    assert to_tag(now, None, "ner/1").to_list() == ["p0", "p1", "p2", "p3"]
