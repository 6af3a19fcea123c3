"""Ranking metrics for search judgments: NDCG@k with linear gains, MRR and Recall@k, per query and mean."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NDCG_K = 10
RECALL_K = 100


def dcg(gains: Sequence[float]) -> float:
    """Discounted cumulative gain of gains in rank order: sum gain_i / log2(i + 1), i from 1."""
    return sum(gain / math.log2(position + 2) for position, gain in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], gains: Mapping[str, float], k: int = NDCG_K) -> float | None:
    """NDCG@k of a ranking against judged gains (unjudged products gain 0; linear gain, not 2^g - 1).

    The ideal ranking sorts every judged gain; None when no judged product has a positive gain (the
    query cannot tell rankings apart and is left out of the mean).
    """
    ideal = dcg(sorted((g for g in gains.values() if g > 0), reverse=True)[:k])
    if ideal <= 0:
        return None
    return dcg([max(gains.get(product_id, 0.0), 0.0) for product_id in _distinct(ranked)[:k]]) / ideal


def reciprocal_rank(ranked: Sequence[str], relevant: set[str]) -> float | None:
    """1 / rank of the first relevant product (0 when none is ranked); None when nothing is relevant."""
    if not relevant:
        return None
    for rank, product_id in enumerate(_distinct(ranked), start=1):
        if product_id in relevant:
            return 1.0 / rank
    return 0.0


def recall_at_k(ranked: Sequence[str], relevant: set[str], k: int = RECALL_K) -> float | None:
    """Share of the relevant products in the top k; None when nothing is relevant."""
    if not relevant:
        return None
    return len(relevant.intersection(_distinct(ranked)[:k])) / len(relevant)


def _distinct(ranked: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(ranked))


def gains_from_labels(labels: Mapping[str, float], offset: float = 0.0) -> dict[str, float]:
    """Gain per product: label - offset, floored at 0 (offset 1 turns CrowdFlower's 1-4 into 0-3; the
    landing relevance is already on 0-3, so its offset is 0)."""
    return {product_id: max(float(label) - offset, 0.0) for product_id, label in labels.items()}


@dataclass(frozen=True)
class QueryMetrics:
    """One query's metrics; None where the query has no relevant judged product."""

    query_id: str
    ndcg: float | None
    mrr: float | None
    recall: float | None


def query_metrics(
    query_id: str,
    ranked: Sequence[str],
    gains: Mapping[str, float],
    *,
    ndcg_k: int = NDCG_K,
    recall_k: int = RECALL_K,
) -> QueryMetrics:
    """NDCG@ndcg_k, reciprocal rank and Recall@recall_k of one ranking; relevant means gain > 0."""
    relevant = {product_id for product_id, gain in gains.items() if gain > 0}
    return QueryMetrics(
        query_id,
        ndcg_at_k(ranked, gains, ndcg_k),
        reciprocal_rank(ranked, relevant),
        recall_at_k(ranked, relevant, recall_k),
    )


def mean_metrics(per_query: Sequence[QueryMetrics]) -> dict[str, float]:
    """Mean NDCG, MRR and recall over the queries where each is defined, and how many queries counted."""
    result: dict[str, float] = {}
    for name in ("ndcg", "mrr", "recall"):
        values = [value for q in per_query if (value := getattr(q, name)) is not None]
        result[name] = sum(values) / len(values) if values else 0.0
    result["queries"] = float(sum(1 for q in per_query if q.ndcg is not None))
    return result
