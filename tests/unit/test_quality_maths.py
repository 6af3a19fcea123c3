"""Unit tests of review-mined quality: Bayesian smoothing, sentence themes, shares, issues, flag metrics."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from shopgraph.domain import quality as Q
from shopgraph.schemas import landing as L


def _products() -> pl.DataFrame:
    return pl.DataFrame(
        {
            L.PRODUCT_ID: ["p1", "p2", "p3", "p4"],
            L.CATEGORY_PATH: ["Home > Mugs", "Home > Mugs", "Home > Lamps", "Garden > Hoses"],
        }
    )


def _reviews() -> pl.DataFrame:
    return pl.DataFrame(
        {
            L.REVIEW_ID: ["r1", "r2", "r3", "r4", "r5", "r6"],
            L.PRODUCT_ID: ["p1", "p1", "p2", "p3", "p3", "ghost"],
            L.RATING: pl.Series([5, 3, 1, 4, 2, 5], dtype=pl.Int32),
            L.TITLE: ["Great", None, "Bad!", "Fine", "Meh", "x"],
            L.TEXT: [
                "Love it. Arrived broken.",
                "Ok",
                "Broke in a day! Late too",
                "Good.",
                "Small.\nToo small",
                "y",
            ],
        }
    )


def test_bayesian_average_by_hand() -> None:
    assert Q.bayesian_average(9.0, 2, 3.0, 2.0) == pytest.approx((2 * 3 + 9) / 4)
    assert Q.bayesian_average(0.0, 0, 3.5, 5.0) == pytest.approx(3.5)
    assert Q.bayesian_average(5.0, 1, 1.0, 0.0) == pytest.approx(5.0)
    with pytest.raises(ValueError):
        Q.bayesian_average(0.0, 0, 3.0, 0.0)


def test_quality_scores_smooth_towards_the_category_mean() -> None:
    scores = Q.quality_scores(_products(), _reviews(), prior_weight=2.0)
    rows = {r[L.PRODUCT_ID]: r for r in scores.iter_rows(named=True)}
    # Mugs: reviews 5, 3, 1 -> mean 3. p1: (2 x 3 + 8) / (2 + 2) = 3.5; p2: (2 x 3 + 1) / 3 = 7/3.
    assert rows["p1"][Q.QUALITY_SCORE] == pytest.approx(3.5)
    assert rows["p2"][Q.QUALITY_SCORE] == pytest.approx(7 / 3)
    assert rows["p1"][Q.MEAN_RATING] == pytest.approx(4.0) and rows["p1"][Q.REVIEW_COUNT] == 2
    # Lamps: 4 and 2 -> mean 3; p3: (6 + 6) / 4 = 3.
    assert rows["p3"][Q.QUALITY_SCORE] == pytest.approx(3.0)
    # Hoses have no reviews: the mean of all known reviews (15 / 5 = 3), ghost's review ignored.
    assert rows["p4"][Q.REVIEW_COUNT] == 0 and rows["p4"][Q.MEAN_RATING] is None
    assert rows["p4"][Q.QUALITY_SCORE] == pytest.approx(3.0)
    assert scores.height == 4


def test_sentences_and_best_themes() -> None:
    assert Q.split_sentences("Love it. Arrived broken!  Why?\nNo") == [
        "Love it.",
        "Arrived broken!",
        "Why?",
        "No",
    ]
    assert Q.split_sentences("") == []
    sentences = Q.review_sentences(_reviews())
    assert sentences.filter(pl.col(L.REVIEW_ID) == "r1").get_column(Q.SENTENCE).to_list() == [
        "Great",
        "Love it.",
        "Arrived broken.",
    ]
    described = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    found = np.array([[0.8, 0.6], [0.0, 1.0], [-1.0, 0.0]], dtype=np.float32)
    themes, scores = Q.best_themes(found, described, ["defective", "late", "defective"], threshold=0.9)
    # row 0: cosines 0.8, 0.6, 0.96 -> third description (defective); row 1: late (1.0); row 2: below.
    assert themes == ["defective", "late", None]
    assert scores == pytest.approx([0.96, 1.0, 0.0])
    with pytest.raises(ValueError):
        Q.best_themes(found, described, ["defective"], 0.5)


def test_shares_issues_and_rows() -> None:
    reviews = _reviews()
    themes = pl.DataFrame(
        {
            L.REVIEW_ID: ["r1", "r1", "r3", "r3", "r5"],
            Q.THEME: ["defective", "defective", "defective", "late_delivery", "wrong_size"],
        }
    ).unique()
    shares = Q.theme_shares(reviews, themes)
    got = {
        (r[L.PRODUCT_ID], r[Q.THEME]): (r[Q.THEME_REVIEWS], r[Q.SHARE]) for r in shares.iter_rows(named=True)
    }
    assert got == {
        ("p1", "defective"): (1, 0.5),
        ("p2", "defective"): (1, 1.0),
        ("p2", "late_delivery"): (1, 1.0),
        ("p3", "wrong_size"): (1, 0.5),
    }
    assert Q.product_issues(shares, Q.QualityConfig(min_share=0.5, min_reviews=1)).height == 4
    assert Q.product_issues(shares, Q.QualityConfig(min_share=0.6, min_reviews=1)).height == 2
    assert Q.product_issues(shares, Q.QualityConfig(min_share=0.5, min_reviews=2)).height == 0
    issues = Q.product_issues(shares, Q.QualityConfig(min_share=0.6, min_reviews=1))
    rows = Q.quality_rows(Q.quality_scores(_products(), reviews, 2.0), issues)
    by_id = {r[L.PRODUCT_ID]: r for r in rows.iter_rows(named=True)}
    assert [i["name"] for i in by_id["p2"][Q.ISSUES]] == ["defective", "late_delivery"]
    assert by_id["p2"][Q.ISSUES][0] == {"name": "defective", "share": 1.0, "reviews": 1}
    assert by_id["p1"][Q.ISSUES] == [] and by_id["p4"][Q.ISSUES] == []


def test_flag_metrics_and_config() -> None:
    metrics = Q.flag_metrics({"a", "b", "z"}, {"a", "c", "d"}, {"a", "b", "c", "d"})
    assert metrics["precision"] == pytest.approx(0.5)  # z is outside the population
    assert metrics["recall"] == pytest.approx(1 / 3)
    assert Q.flag_metrics(set(), set(), {"a"})["precision"] == 0.0
    texts, names = Q.theme_descriptions({"late": ["slow", "late"], "size": ["small"]})
    assert texts == ["slow", "late", "small"] and names == ["late", "late", "size"]
    with pytest.raises(ValueError):
        Q.theme_descriptions({})
    with pytest.raises(ValueError):
        Q.QualityConfig(min_share=0)
