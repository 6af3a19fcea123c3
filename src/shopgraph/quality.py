"""Review-mined product quality on the lake: theme mining, scores, graph write, evaluation."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import yaml

from shopgraph.adapters.lake import TRUTH, filesystem, lake_path, partition_files, read_parts
from shopgraph.domain import quality as Q
from shopgraph.errors import ShopgraphError
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T
from shopgraph.schemas.lake_layout import CURATED
from shopgraph.settings import REPO_ROOT, Settings

NO_COMPLAINT = "no_complaint"
Embedder = Callable[[Sequence[str]], np.ndarray]


class QualityError(ShopgraphError):
    """Quality mining could not run: no reviews or products, or a malformed themes file."""


@dataclass(frozen=True)
class ThemeSpec:
    """Complaint themes with their descriptions, and descriptions of sentences that complain of nothing."""

    themes: dict[str, list[str]]
    no_complaint: list[str] = field(default_factory=list)


@dataclass
class QualityResult:
    """Everything one mining pass computed (frames per domain.quality) and how long embedding took."""

    scores: pl.DataFrame
    review_themes: pl.DataFrame
    shares: pl.DataFrame
    issues: pl.DataFrame
    rows: pl.DataFrame
    sentences: int
    unique_sentences: int
    embed_seconds: float


def read_themes(path: str) -> ThemeSpec:
    """conf/quality/themes.yaml (relative paths from the repo root): `themes` name -> descriptions and an
    optional `no_complaint` list."""
    file = Path(path) if Path(path).is_absolute() else REPO_ROOT / path
    if not file.exists():
        raise QualityError(f"{file}: themes file not found (setting quality.themes)")
    loaded: Any = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    themes = loaded.get("themes") if isinstance(loaded, dict) else None
    if not isinstance(themes, dict) or not themes:
        raise QualityError(f"{file}: expected `themes:` mapping each theme name to a list of descriptions")
    for name, descriptions in themes.items():
        if (
            not isinstance(descriptions, list)
            or not descriptions
            or not all(isinstance(d, str) for d in descriptions)
        ):
            raise QualityError(f"{file}: theme {name!r} needs a non-empty list of description strings")
    neutral = loaded.get(NO_COMPLAINT, []) or []
    if not isinstance(neutral, list) or not all(isinstance(d, str) for d in neutral):
        raise QualityError(f"{file}: `{NO_COMPLAINT}` must be a list of strings")
    if NO_COMPLAINT in themes:
        raise QualityError(f"{file}: {NO_COMPLAINT!r} is reserved and cannot be a theme name")
    return ThemeSpec({str(k): [str(d) for d in v] for k, v in themes.items()}, [str(d) for d in neutral])


def curated_fact_files(lake: str, table: str) -> list[str]:
    """Every part file of a date-partitioned curated table (curated/<table>/dt=*/), oldest first."""
    fs, root = filesystem(lake_path(lake, CURATED, table))
    folders = sorted(fs.glob(f"{root.rstrip('/')}/dt=*"))
    files: list[str] = []
    for folder in folders:
        files += partition_files(lake_path(lake, CURATED, table, folder.rstrip("/").rsplit("/", 1)[-1]))
    return files


def has_reviews(lake: str) -> bool:
    """Whether any curated review partition exists (a young shop may have none yet)."""
    return bool(curated_fact_files(lake, L.REVIEWS))


def read_reviews(lake: str) -> pl.DataFrame:
    """All curated reviews (review_id unique, the latest copy kept); QualityError when there are none."""
    reviews = read_parts(curated_fact_files(lake, L.REVIEWS))
    if reviews is None or reviews.is_empty():
        raise QualityError(
            f"no curated reviews under {lake_path(lake, CURATED, L.REVIEWS)}: run `shopgraph ingest`"
        )
    return reviews.unique(L.REVIEW_ID, keep="last", maintain_order=True)


def read_defect_truth(lake: str) -> pl.DataFrame | None:
    """product_id, is_defective, defect_theme of the generator's hidden truth; None for a real shop."""
    truth = read_parts(partition_files(lake_path(lake, TRUTH, T.PRODUCT_TRUTH)))
    if truth is None:
        return None
    return truth.select(L.PRODUCT_ID, T.IS_DEFECTIVE, T.DEFECT_THEME)


def mine_quality(
    products: pl.DataFrame,
    reviews: pl.DataFrame,
    spec: ThemeSpec,
    embed: Embedder,
    config: Q.QualityConfig,
) -> QualityResult:
    """Scores, themes per review, theme shares and issues per product, and the rows for the graph.

    Reads products (product_id, category_path) and reviews (review_id, product_id, rating, title, text).
    Each distinct sentence is embedded once; a sentence nearest a no-complaint description names no theme.
    """
    scores = Q.quality_scores(products, reviews, config.prior_weight)
    sentences = Q.review_sentences(reviews)
    unique = sentences.get_column(Q.SENTENCE).unique(maintain_order=True).to_list()
    texts, names = Q.theme_descriptions(
        {**spec.themes, **({NO_COMPLAINT: spec.no_complaint} if spec.no_complaint else {})}
    )
    started = time.perf_counter()
    vectors = embed([*texts, *unique]) if unique else embed(texts)
    embed_seconds = time.perf_counter() - started
    described, found = vectors[: len(texts)], vectors[len(texts) :]
    themes, _ = Q.best_themes(found, described, names, config.similarity_threshold)
    by_sentence = {
        sentence: (None if theme == NO_COMPLAINT else theme)
        for sentence, theme in zip(unique, themes, strict=True)
    }
    sentence_themes = [by_sentence.get(s) for s in sentences.get_column(Q.SENTENCE).to_list()]
    review_themes = Q.review_themes(sentences, sentence_themes)
    shares = Q.theme_shares(reviews, review_themes)
    issues = Q.product_issues(shares, config)
    return QualityResult(
        scores=scores,
        review_themes=review_themes,
        shares=shares,
        issues=issues,
        rows=Q.quality_rows(scores, issues),
        sentences=sentences.height,
        unique_sentences=len(unique),
        embed_seconds=embed_seconds,
    )


def defect_evaluation(
    result: QualityResult, truth: pl.DataFrame, min_reviews: int
) -> dict[str, dict[str, float]]:
    """Precision and recall of flagged products (any issue) against the hidden defective products: over
    every product the truth knows, and over those with at least min_reviews reviews (the ones that can be
    flagged)."""
    flagged = set(result.issues.get_column(L.PRODUCT_ID).to_list())
    defective = set(truth.filter(pl.col(T.IS_DEFECTIVE)).get_column(L.PRODUCT_ID).to_list())
    known = set(truth.get_column(L.PRODUCT_ID).to_list())
    everyone = set(result.scores.get_column(L.PRODUCT_ID).to_list()) & known
    reviewed = known & set(
        result.scores.filter(pl.col(Q.REVIEW_COUNT) >= min_reviews).get_column(L.PRODUCT_ID).to_list()
    )
    return {
        "all_products": Q.flag_metrics(flagged, defective, everyone),
        "reviewed": Q.flag_metrics(flagged, defective, reviewed),
    }


def theme_accuracy(result: QualityResult, review_truth: pl.DataFrame) -> dict[str, float]:
    """Review-level precision and recall of detected themes against the generator's review themes."""
    truth = review_truth.drop_nulls(T.THEME).select(L.REVIEW_ID, T.THEME)
    found = result.review_themes.select(L.REVIEW_ID, pl.col(Q.THEME).alias(T.THEME))
    hits = found.join(truth, on=[L.REVIEW_ID, T.THEME]).height
    return {
        "precision": hits / found.height if found.height else 0.0,
        "recall": hits / truth.height if truth.height else 0.0,
        "detected": float(found.height),
        "true_mentions": float(truth.height),
    }


def read_review_truth(lake: str) -> pl.DataFrame | None:
    """review_id, product_id, theme of the generator's hidden review themes; None for a real shop."""
    fs, root = filesystem(lake_path(lake, TRUTH, T.REVIEW_TRUTH))
    files = sorted(fs.glob(f"{root.rstrip('/')}/dt=*/*.parquet"))
    if not files:
        return None
    return pl.concat([pl.read_parquet(fs.open(f, "rb").read()) for f in files])


def settings_config(settings: Settings) -> Q.QualityConfig:
    """The QualityConfig of the `quality:` settings."""
    q = settings.quality
    return Q.QualityConfig(q.prior_weight, q.similarity_threshold, q.min_share, q.min_reviews)


def encoder_embedder(settings: Settings) -> Embedder:
    """Embeds texts with the configured product encoder, loaded once on first use."""
    from shopgraph.adapters.encoder import EncoderSpec, load_encoder
    from shopgraph.embedding import embed_texts

    cache: dict[str, Any] = {}

    def embed(texts: Sequence[str]) -> np.ndarray:
        if "encoder" not in cache:
            e = settings.embedding
            cache["encoder"] = load_encoder(EncoderSpec(e.model, e.device, e.max_length))
        vectors, _ = embed_texts(cache["encoder"], list(texts), batch_size=settings.embedding.batch_size)
        return vectors

    return embed


def run_quality(settings: Settings, *, write: bool = True, embed: Embedder | None = None) -> dict[str, Any]:
    """Mine quality from the lake's curated reviews and products, write it to the graph, and evaluate it
    on the generator's hidden defective products when the lake has that truth; returns a JSON report."""
    from shopgraph.adapters.graph_store import neo4j_driver
    from shopgraph.adapters.quality_store import write_quality
    from shopgraph.ner.io import read_curated_products

    lake = settings.lake_root
    config = settings_config(settings)
    started = time.perf_counter()
    result = mine_quality(
        read_curated_products(lake),
        read_reviews(lake),
        read_themes(settings.quality.themes),
        embed or encoder_embedder(settings),
        config,
    )
    report: dict[str, Any] = summary(result)
    if write:
        with neo4j_driver(settings) as driver:
            report["graph"] = write_quality(
                driver, settings.neo4j.database, result.rows, settings.graph.batch_size
            )
    truth = read_defect_truth(lake)
    if truth is not None:
        report["defects"] = defect_evaluation(result, truth, config.min_reviews)
    review_truth = read_review_truth(lake)
    if review_truth is not None:
        report["themes"] = theme_accuracy(result, review_truth)
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def summary(result: QualityResult) -> dict[str, Any]:
    """Counts of one mining pass: products, reviews with a theme, issues per theme, sentences embedded."""
    per_theme: Mapping[str, int] = dict(result.issues.group_by(Q.THEME).len().sort(Q.THEME).iter_rows())
    return {
        "products": result.scores.height,
        "reviewed_products": result.scores.filter(pl.col(Q.REVIEW_COUNT) > 0).height,
        "reviews_with_theme": result.review_themes.get_column(L.REVIEW_ID).n_unique(),
        "products_with_issue": result.issues.get_column(L.PRODUCT_ID).n_unique(),
        "issues_by_theme": dict(per_theme),
        "sentences": result.sentences,
        "unique_sentences": result.unique_sentences,
        "embed_seconds": round(result.embed_seconds, 2),
    }
