"""Entity-level scores and the confusion table, on hand-computed cases."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from shopgraph.domain.ner.metrics import SCORES_SCHEMA, entity_scores, micro_f1, span_confusion

pytestmark = pytest.mark.unit

COLUMNS = ["product_id", "field", "start", "end", "type"]


def spans(rows: list[tuple[str, str, int, int, str]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=COLUMNS, orient="row")


GOLD = spans(
    [
        ("P1", "title", 0, 4, "brand"),
        ("P1", "title", 5, 10, "colour"),
        ("P1", "description", 0, 4, "brand"),
        ("P2", "title", 0, 3, "colour"),
    ]
)
PRED = spans(
    [
        ("P1", "title", 0, 4, "brand"),  # hit
        ("P1", "title", 5, 10, "brand"),  # right boundary, wrong type: fp brand, fn colour
        ("P1", "description", 0, 3, "brand"),  # wrong boundary: fp brand, fn brand
        ("P2", "title", 0, 3, "colour"),  # hit
        ("P2", "title", 0, 3, "colour"),  # duplicate counts once
    ]
)


def test_entity_scores_hand_computed() -> None:
    # brand: tp 1, predicted 3, gold 2 -> P 1/3, R 1/2, F1 0.4; colour: tp 1, predicted 1, gold 2 -> P 1, R .5
    # micro: tp 2, predicted 4, gold 4 -> P .5, R .5, F1 .5
    expected = pl.DataFrame(
        [
            ("brand", 1, 2, 1, 1 / 3, 0.5, 0.4, 2),
            ("colour", 1, 0, 1, 1.0, 0.5, 2 / 3, 2),
            ("micro", 2, 2, 2, 0.5, 0.5, 0.5, 4),
        ],
        schema=SCORES_SCHEMA,
        orient="row",
    )
    scores = entity_scores(GOLD, PRED)
    assert_frame_equal(scores, expected)
    assert micro_f1(scores) == pytest.approx(0.5)


def test_perfect_and_empty_predictions() -> None:
    assert micro_f1(entity_scores(GOLD, GOLD)) == 1.0
    scores = entity_scores(GOLD, GOLD.head(0))
    assert micro_f1(scores) == 0.0
    assert scores.filter(pl.col("type") == "micro")["fn"].item() == 4


def test_type_only_predicted_appears_with_zero_support() -> None:
    scores = entity_scores(
        GOLD.head(1), spans([("P1", "title", 0, 4, "brand"), ("P9", "title", 0, 1, "size")])
    )
    size = scores.filter(pl.col("type") == "size").row(0, named=True)
    assert (size["tp"], size["fp"], size["fn"], size["support"], size["f1"]) == (0, 1, 0, 0, 0.0)


def test_span_confusion() -> None:
    expected = pl.DataFrame(
        [
            ("brand", "brand", 1),
            ("brand", "none", 1),
            ("colour", "brand", 1),
            ("colour", "colour", 1),
            ("none", "brand", 1),
        ],
        schema={"gold_type": pl.String, "pred_type": pl.String, "count": pl.Int64},
        orient="row",
    )
    assert_frame_equal(span_confusion(GOLD, PRED), expected)
