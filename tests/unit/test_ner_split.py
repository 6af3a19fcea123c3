"""Product split by hash: deterministic, roughly the asked shares, and checked arguments."""

from __future__ import annotations

import polars as pl
import pytest

from shopgraph.domain.ner.split import SPLIT, assign_split, hash_unit, split_of

pytestmark = pytest.mark.unit


def test_split_is_deterministic_and_salted() -> None:
    assert hash_unit("P00000001", "s") == hash_unit("P00000001", "s")
    assert hash_unit("P00000001", "s") != hash_unit("P00000001", "t")
    assert 0 <= hash_unit("x") < 1


def test_split_shares() -> None:
    frame = pl.DataFrame({"product_id": [f"P{i:08d}" for i in range(4000)]})
    counts = dict(assign_split(frame, 0.1, 0.2, "salt").group_by(SPLIT).len().iter_rows())
    assert abs(counts["val"] / 4000 - 0.1) < 0.02
    assert abs(counts["test"] / 4000 - 0.2) < 0.02
    assert counts["train"] + counts["val"] + counts["test"] == 4000
    # A product keeps its split whatever else is in the frame.
    assert (
        assign_split(frame.head(7), 0.1, 0.2, "salt")[SPLIT].to_list()
        == assign_split(frame, 0.1, 0.2, "salt")[SPLIT].head(7).to_list()
    )


def test_split_of_rejects_bad_shares() -> None:
    with pytest.raises(ValueError, match="sum below 1"):
        split_of("P1", 0.5, 0.5)
