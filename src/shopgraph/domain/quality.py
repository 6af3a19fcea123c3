"""Review-mined product quality: Bayesian-smoothed ratings, complaint themes per review, issue shares."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from shopgraph.schemas import landing as L

SENTENCE = "sentence"
THEME = "theme"
SIMILARITY = "similarity"
REVIEW_COUNT = "review_count"
MEAN_RATING = "mean_rating"
CATEGORY_MEAN = "category_mean"
QUALITY_SCORE = "quality_score"
THEME_REVIEWS = "theme_reviews"
SHARE = "share"
ISSUES = "issues"
# A sentence ends at . ! ? (or a run of them) followed by white space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class QualityConfig:
    """Smoothing strength (reviews the category mean counts as), theme detection and issue thresholds."""

    prior_weight: float = 5.0
    similarity_threshold: float = 0.45
    min_share: float = 0.2
    min_reviews: int = 2

    def __post_init__(self) -> None:
        if self.prior_weight < 0:
            raise ValueError(f"prior_weight must be >= 0, got {self.prior_weight}")
        if not 0 < self.min_share <= 1:
            raise ValueError(f"min_share must be in (0, 1], got {self.min_share}")
        if self.min_reviews < 1:
            raise ValueError(f"min_reviews must be >= 1, got {self.min_reviews}")


def bayesian_average(rating_sum: float, count: int, prior_mean: float, prior_weight: float) -> float:
    """(prior_weight x prior_mean + rating_sum) / (prior_weight + count): few reviews stay near the prior."""
    if prior_weight + count == 0:
        raise ValueError("bayesian_average needs reviews or a positive prior weight")
    return (prior_weight * prior_mean + rating_sum) / (prior_weight + count)


def quality_scores(products: pl.DataFrame, reviews: pl.DataFrame, prior_weight: float) -> pl.DataFrame:
    """product_id, category_path, review_count, mean_rating, category_mean, quality_score per product.

    Reads products (product_id, category_path) and reviews (product_id, rating). The category mean is
    the mean rating of every review of that category's products (the mean of all reviews for a category
    without any); quality_score is the Bayesian average of the product's ratings towards it, so a
    product without reviews scores its category mean. Reviews of unknown products are ignored.
    """
    rated = reviews.select(L.PRODUCT_ID, pl.col(L.RATING).cast(pl.Float64)).drop_nulls()
    rated = rated.join(products.select(L.PRODUCT_ID, L.CATEGORY_PATH), on=L.PRODUCT_ID, how="inner")
    overall = rated.get_column(L.RATING).mean() if rated.height else None
    by_category = rated.group_by(L.CATEGORY_PATH).agg(pl.col(L.RATING).mean().alias(CATEGORY_MEAN))
    by_product = rated.group_by(L.PRODUCT_ID).agg(
        pl.len().cast(pl.Int64).alias(REVIEW_COUNT), pl.col(L.RATING).sum().alias("_sum")
    )
    frame = (
        products.select(L.PRODUCT_ID, L.CATEGORY_PATH)
        .unique(L.PRODUCT_ID, keep="last", maintain_order=True)
        .join(by_product, on=L.PRODUCT_ID, how="left")
        .join(by_category, on=L.CATEGORY_PATH, how="left")
        .with_columns(
            pl.col(REVIEW_COUNT).fill_null(0),
            pl.col("_sum").fill_null(0.0),
            pl.col(CATEGORY_MEAN).fill_null(pl.lit(overall, dtype=pl.Float64)),
        )
    )
    count = pl.col(REVIEW_COUNT).cast(pl.Float64)
    return (
        frame.with_columns(
            pl.when(count > 0).then(pl.col("_sum") / count).otherwise(None).alias(MEAN_RATING),
            ((prior_weight * pl.col(CATEGORY_MEAN) + pl.col("_sum")) / (prior_weight + count)).alias(
                QUALITY_SCORE
            ),
        )
        .select(L.PRODUCT_ID, L.CATEGORY_PATH, REVIEW_COUNT, MEAN_RATING, CATEGORY_MEAN, QUALITY_SCORE)
        .sort(L.PRODUCT_ID)
    )


def split_sentences(text: str) -> list[str]:
    """The non-empty sentences of a review text, trimmed."""
    return [part.strip() for part in _SENTENCE_END.split(text or "") if part.strip()]


def review_sentences(reviews: pl.DataFrame) -> pl.DataFrame:
    """review_id and sentence for each sentence of each review's title and text (reads review_id, title,
    text): a complaint is usually one sentence among praise, and a whole-review vector would blur it."""
    rows = [
        (review_id, sentence)
        for review_id, title, text in reviews.select(L.REVIEW_ID, L.TITLE, L.TEXT).iter_rows()
        for part in (title, text)
        for sentence in split_sentences(part or "")
    ]
    return pl.DataFrame(rows, schema={L.REVIEW_ID: pl.String, SENTENCE: pl.String}, orient="row")


def best_themes(
    sentence_vectors: np.ndarray,
    description_vectors: np.ndarray,
    description_themes: Sequence[str],
    threshold: float,
) -> tuple[list[str | None], np.ndarray]:
    """Per sentence, the theme of its most similar description when the cosine is >= threshold (else None),
    and that best cosine. Vectors are unit length, so cosine is a dot product."""
    if len(description_themes) != description_vectors.shape[0]:
        raise ValueError("one theme name per description vector is needed")
    if sentence_vectors.shape[0] == 0:
        return [], np.zeros(0, dtype=np.float32)
    similarity = sentence_vectors @ description_vectors.T
    best = similarity.argmax(axis=1)
    scores = similarity[np.arange(similarity.shape[0]), best]
    themes = [
        description_themes[int(i)] if s >= threshold else None for i, s in zip(best, scores, strict=True)
    ]
    return themes, scores


def review_themes(sentences: pl.DataFrame, themes: Sequence[str | None]) -> pl.DataFrame:
    """review_id and theme, one row per theme a review mentions (reads review_id of the sentences, in the
    order the themes were computed for)."""
    return (
        sentences.select(L.REVIEW_ID)
        .with_columns(pl.Series(THEME, list(themes), dtype=pl.String))
        .drop_nulls(THEME)
        .unique()
        .sort(L.REVIEW_ID, THEME)
    )


def theme_shares(reviews: pl.DataFrame, themes: pl.DataFrame) -> pl.DataFrame:
    """product_id, theme, theme_reviews, review_count, share: the share of a product's reviews that
    mention each theme (reads product_id and review_id of reviews, review_id and theme of themes)."""
    counts = reviews.group_by(L.PRODUCT_ID).agg(
        pl.col(L.REVIEW_ID).n_unique().cast(pl.Int64).alias(REVIEW_COUNT)
    )
    mentioned = (
        themes.join(reviews.select(L.REVIEW_ID, L.PRODUCT_ID).unique(L.REVIEW_ID), on=L.REVIEW_ID)
        .group_by(L.PRODUCT_ID, THEME)
        .agg(pl.col(L.REVIEW_ID).n_unique().cast(pl.Int64).alias(THEME_REVIEWS))
    )
    return (
        mentioned.join(counts, on=L.PRODUCT_ID)
        .with_columns((pl.col(THEME_REVIEWS) / pl.col(REVIEW_COUNT)).alias(SHARE))
        .select(L.PRODUCT_ID, THEME, THEME_REVIEWS, REVIEW_COUNT, SHARE)
        .sort(L.PRODUCT_ID, THEME)
    )


def product_issues(shares: pl.DataFrame, config: QualityConfig) -> pl.DataFrame:
    """The theme shares that make an issue: share >= min_share among at least min_reviews reviews that
    mention it (one unlucky delivery is no issue)."""
    return shares.filter(
        (pl.col(SHARE) >= config.min_share) & (pl.col(THEME_REVIEWS) >= config.min_reviews)
    ).sort(L.PRODUCT_ID, THEME)


def quality_rows(scores: pl.DataFrame, issues: pl.DataFrame) -> pl.DataFrame:
    """product_id, quality_score, review_count and issues (list of {name, share, reviews}) per product;
    every scored product is listed, with an empty issue list when it has none, so stale issues go."""
    grouped = issues.group_by(L.PRODUCT_ID).agg(
        pl.struct(
            pl.col(THEME).alias("name"),
            pl.col(SHARE).round(6).alias(SHARE),
            pl.col(THEME_REVIEWS).alias("reviews"),
        )
        .sort_by(THEME)
        .alias(ISSUES)
    )
    empty = pl.lit([], dtype=pl.List(pl.Struct({"name": pl.String, SHARE: pl.Float64, "reviews": pl.Int64})))
    return (
        scores.select(L.PRODUCT_ID, pl.col(QUALITY_SCORE).round(6), REVIEW_COUNT)
        .join(grouped, on=L.PRODUCT_ID, how="left")
        .with_columns(pl.col(ISSUES).fill_null(empty))
        .sort(L.PRODUCT_ID)
    )


def flag_metrics(flagged: set[str], defective: set[str], population: set[str]) -> dict[str, float]:
    """Precision and recall of flagged products against the truly defective ones within a population
    (e.g. products with enough reviews to judge), with the counts they come from."""
    flagged, defective = flagged & population, defective & population
    hits = len(flagged & defective)
    return {
        "precision": hits / len(flagged) if flagged else 0.0,
        "recall": hits / len(defective) if defective else 0.0,
        "flagged": float(len(flagged)),
        "defective": float(len(defective)),
        "true_positives": float(hits),
        "population": float(len(population)),
    }


def theme_descriptions(themes: Mapping[str, Sequence[str]]) -> tuple[list[str], list[str]]:
    """Flattened (description texts, their theme names) from theme -> descriptions."""
    texts: list[str] = []
    names: list[str] = []
    for name, descriptions in themes.items():
        for description in descriptions:
            texts.append(description)
            names.append(name)
    if not texts:
        raise ValueError("no complaint theme descriptions given")
    return texts, names
