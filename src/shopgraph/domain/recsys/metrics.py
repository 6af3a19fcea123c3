"""Top-k ranking metrics: per-user accuracy from hit matrices, catalogue-level beyond-accuracy metrics."""

from __future__ import annotations

import math

import numpy as np
import torch


def hits_matrix(top: torch.Tensor, positives: torch.Tensor) -> torch.Tensor:
    """(n_users x k) bool: whether each recommended item (top, item indexes) is a positive of its user.

    positives is an (n_users x n_items) bool matrix.
    """
    return positives.gather(1, top.long())


def _discounts(k: int, device: torch.device) -> torch.Tensor:
    return 1.0 / torch.log2(torch.arange(k, device=device, dtype=torch.float64) + 2.0)


def recall_at_k(hits: torch.Tensor, n_pos: torch.Tensor) -> torch.Tensor:
    """Per user: hits in the top-k / number of positives (k = hits.shape[1]); 0 for users without any."""
    return hits.sum(1).double() / n_pos.double().clamp(min=1)


def ndcg_at_k(hits: torch.Tensor, n_pos: torch.Tensor) -> torch.Tensor:
    """Per user binary-relevance NDCG: DCG of the top-k over the ideal DCG of min(k, n_pos) hits."""
    k = hits.shape[1]
    discounts = _discounts(k, hits.device)
    dcg = (hits.double() * discounts).sum(1)
    ideal_cumulative = torch.cat(
        [torch.zeros(1, dtype=torch.float64, device=hits.device), discounts.cumsum(0)]
    )
    idcg = ideal_cumulative[n_pos.long().clamp(min=0, max=k)]
    return torch.where(idcg > 0, dcg / idcg.clamp(min=1e-12), torch.zeros_like(dcg))


def hit_at_k(hits: torch.Tensor) -> torch.Tensor:
    """Per user: 1 when any top-k item is a positive, else 0."""
    return hits.any(1).double()


def mrr_at_k(hits: torch.Tensor) -> torch.Tensor:
    """Per user: 1 / rank of the first positive within the top-k, 0 when there is none."""
    k = hits.shape[1]
    ranks = torch.arange(1, k + 1, device=hits.device, dtype=torch.float64)
    first = torch.where(hits, ranks, torch.full_like(ranks, math.inf)).min(1).values
    return torch.where(torch.isfinite(first), 1.0 / first, torch.zeros_like(first))


def cold_positive_counts(positives: torch.Tensor, cold: torch.Tensor) -> torch.Tensor:
    """Per user: how many positives are cold items (cold: n_items bool)."""
    return (positives & cold[None, :]).sum(1)


def cold_recall_at_k(
    hits: torch.Tensor, top: torch.Tensor, cold: torch.Tensor, n_cold_pos: torch.Tensor
) -> torch.Tensor:
    """Recall restricted to positives that are cold items, for the users with at least one cold positive
    (n_cold_pos from cold_positive_counts); the returned vector holds only those users, in order."""
    cold_hits = (hits & cold[top.long()]).sum(1)
    has = n_cold_pos > 0
    return cold_hits[has].double() / n_cold_pos[has].double()


def recommendation_counts(top: torch.Tensor, n_items: int, valid: torch.Tensor | None = None) -> torch.Tensor:
    """How often each item is recommended over all lists (valid: optional bool mask of real slots)."""
    flat = top.reshape(-1).long() if valid is None else top[valid].long()
    return torch.bincount(flat, minlength=n_items)


def coverage(counts: torch.Tensor) -> float:
    """Catalogue coverage: share of items recommended at least once (counts per item over all items)."""
    return float((counts > 0).double().mean()) if counts.numel() else 0.0


def gini(counts: torch.Tensor) -> float:
    """Gini index of the recommendation counts over all items: 0 equal exposure, (n-1)/n one item only."""
    n = counts.numel()
    total = float(counts.sum())
    if n == 0 or total == 0:
        return 0.0
    ordered = counts.double().sort().values
    index = torch.arange(1, n + 1, dtype=torch.float64, device=counts.device)
    return float(((2 * index - n - 1) * ordered).sum() / (n * total))


def item_self_information(train_items: np.ndarray, n_items: int) -> torch.Tensor:
    """-log2 of each item's share of training pairs, add-one smoothed so never-seen items stay finite."""
    counts = np.bincount(train_items, minlength=n_items).astype(np.float64)
    share = (counts + 1.0) / (counts.sum() + n_items)
    return torch.from_numpy(-np.log2(share))


def novelty(top: torch.Tensor, information: torch.Tensor, valid: torch.Tensor | None = None) -> float:
    """Mean self-information (-log2 popularity share, see item_self_information) of recommended items."""
    values = information[top.long()]
    values = values.reshape(-1) if valid is None else values[valid]
    return float(values.mean()) if values.numel() else 0.0


def unit_vectors(item_vectors: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(L2-normalised float32 vectors, bool mask of items whose vector is not zero)."""
    vectors = item_vectors.float()
    norms = vectors.norm(dim=1)
    return vectors / norms.clamp(min=1e-12)[:, None], norms > 0


def list_cosines(top: torch.Tensor, unit: torch.Tensor) -> torch.Tensor:
    """(n x k x k) cosine of every pair of items inside each list (unit from unit_vectors)."""
    chosen = unit[top.long()]
    return torch.bmm(chosen, chosen.transpose(1, 2))


def intra_list_distance_from(cosine: torch.Tensor, usable: torch.Tensor) -> torch.Tensor:
    """Per list: mean 1 - cosine over pairs of distinct slots both usable (usable: n x k bool); NaN when
    a list has no such pair."""
    k = cosine.shape[1]
    pair = (
        usable[:, :, None] & usable[:, None, :] & ~torch.eye(k, dtype=torch.bool, device=cosine.device)[None]
    )
    distance = ((1.0 - cosine) * pair).sum((1, 2)).double()
    count = pair.sum((1, 2)).double()
    return torch.where(count > 0, distance / count.clamp(min=1), torch.full_like(distance, math.nan))


def intra_list_distance(top: torch.Tensor, item_vectors: torch.Tensor) -> torch.Tensor:
    """Per list: mean pairwise 1 - cosine of its items' vectors (pairs with a zero vector are skipped).

    Lists with no usable pair get NaN; average the others with nanmean.
    """
    unit, usable = unit_vectors(item_vectors)
    return intra_list_distance_from(list_cosines(top, unit), usable[top.long()])
