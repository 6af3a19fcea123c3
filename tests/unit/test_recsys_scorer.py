"""FactorScorer: top-k by dot product, never a known, inactive or excluded item."""

from __future__ import annotations

import numpy as np
import pytest

from shopgraph.recsys.scorer import FactorScorer

pytestmark = pytest.mark.unit


def scorer() -> FactorScorer:
    # Two users; item scores for u1 are 4, 3, 2, 1 (i1 best); u1 already has i1.
    return FactorScorer(
        user_ids=np.array(["u1", "u2"], dtype=object),
        item_ids=np.array(["i1", "i2", "i3", "i4"], dtype=object),
        users=np.array([[1.0], [-1.0]], np.float32),
        items=np.array([[4.0], [3.0], [2.0], [1.0]], np.float32),
        seen_indptr=np.array([0, 1, 1], np.int64),
        seen_indices=np.array([0], np.int64),
        blocked=np.array([2], np.int64),  # i3 is inactive
    )


def test_known_and_inactive_items_are_never_recommended() -> None:
    frame = scorer().recommend(["u1", "u2", "nobody"], k=2)
    assert frame.rows() == [
        ("u1", "i2", 1, 3.0),
        ("u1", "i4", 2, 1.0),
        ("u2", "i4", 1, -1.0),
        ("u2", "i2", 2, -3.0),
    ]


def test_excluded_products_are_left_out_and_lists_run_short_rather_than_repeat() -> None:
    frame = scorer().recommend(["u1"], k=3, exclude=["i2", "unknown-id"])
    assert frame.rows() == [("u1", "i4", 1, 1.0)]
