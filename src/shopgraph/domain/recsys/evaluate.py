"""Full-ranking evaluation of a score function: mask seen items, take the top-k, average the metrics."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

import numpy as np
import torch

from shopgraph.domain.recsys import metrics as M
from shopgraph.domain.recsys.data import Interactions, RecDataset

ScoreFn = Callable[[torch.Tensor], torch.Tensor]
ACTIVITY_LEVELS = ("low", "mid", "high")


class UserItems:
    """The items of each user of one or more splits, CSR-style, for vectorised row gathers."""

    def __init__(self, parts: list[Interactions], n_users: int) -> None:
        users = np.concatenate([part.users for part in parts]).astype(np.int64)
        items = np.concatenate([part.items for part in parts]).astype(np.int64)
        weights = np.concatenate([part.weights for part in parts]).astype(np.float32)
        order = np.argsort(users, kind="stable")
        counts = np.bincount(users, minlength=n_users)
        self.items = torch.from_numpy(items[order])
        self.weights = torch.from_numpy(weights[order])
        self.counts = counts.astype(np.int64)
        self.starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)

    def _positions(self, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        # numpy's repeat: torch.repeat_interleave costs ~20 ms per call on CPU even for tiny inputs.
        index = users.long().cpu().numpy()
        counts = self.counts[index]
        row = np.repeat(np.arange(index.shape[0]), counts)
        shift = np.repeat(self.starts[index] - (np.cumsum(counts) - counts), counts)
        return torch.from_numpy(row), torch.from_numpy(np.arange(row.shape[0]) + shift)

    def rows(self, users: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(row position in users, item) for every item of every user in the batch."""
        row, position = self._positions(users)
        return row, self.items[position]

    def dense(self, users: torch.Tensor, n_items: int) -> torch.Tensor:
        """(len(users) x n_items) bool membership matrix."""
        out = torch.zeros(users.shape[0], n_items, dtype=torch.bool)
        row, item = self.rows(users)
        out[row, item] = True
        return out

    def values(self, users: torch.Tensor, n_items: int, weighted: bool) -> torch.Tensor:
        """(len(users) x n_items) float32 rows: summed weights when weighted, else 1 per item."""
        out = torch.zeros(users.shape[0], n_items)
        row, position = self._positions(users)
        if weighted:
            out.index_put_((row, self.items[position]), self.weights[position], accumulate=True)
        else:
            out[row, self.items[position]] = 1.0
        return out


def _masked_scores(score: ScoreFn, users: torch.Tensor, seen: UserItems, n_items: int) -> torch.Tensor:
    # A copy: the model may hand back a view of its own tensors, and masking writes in place.
    scores = score(users).detach().to("cpu", torch.float32).clone()
    if scores.shape != (users.shape[0], n_items):
        raise ValueError(
            f"score returned shape {tuple(scores.shape)}; expected ({users.shape[0]}, {n_items})"
        )
    row, item = seen.rows(users)
    scores[row, item] = -math.inf
    return scores


def seen_items(data: RecDataset, exclude_valid: bool) -> UserItems:
    """The items masked before ranking: each user's training items, plus validation items when asked."""
    return UserItems([data.train, data.valid] if exclude_valid else [data.train], data.n_users)


def top_k(
    score: ScoreFn,
    data: RecDataset,
    users: torch.Tensor,
    k: int,
    exclude_valid: bool,
    batch_users: int = 1024,
    seen: UserItems | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(indices, scores), each (len(users) x min(k, n_items)) on CPU, best first; training items (and
    validation items when exclude_valid) are never recommended: a slot whose score is -inf means the user
    had fewer unseen items than k and holds no recommendation."""
    seen = seen or seen_items(data, exclude_valid)
    k = min(k, data.n_items)
    indices, values = [], []
    users = users.long().cpu()
    for start in range(0, users.shape[0], batch_users):
        batch = users[start : start + batch_users]
        best = _masked_scores(score, batch, seen, data.n_items).topk(k, dim=1)
        indices.append(best.indices)
        values.append(best.values)
    if not indices:
        return torch.zeros(0, k, dtype=torch.long), torch.zeros(0, k)
    return torch.cat(indices), torch.cat(values)


def _activity_levels(train_counts: np.ndarray) -> dict[str, np.ndarray]:
    """Masks of users in the low / mid / high tercile of training pair counts (thresholds on the counts,
    so equal counts share a level; a level can be empty when counts tie heavily)."""
    low, high = np.quantile(train_counts, [1 / 3, 2 / 3])
    return {
        "low": train_counts <= low,
        "mid": (train_counts > low) & (train_counts <= high),
        "high": train_counts > high,
    }


def evaluate(
    score: ScoreFn,
    data: RecDataset,
    split: Literal["valid", "test"] = "test",
    ks: tuple[int, ...] = (10, 20, 50),
    batch_users: int = 1024,
    item_vectors: np.ndarray | None = None,
    metrics: Literal["full", "ndcg"] = "full",
) -> dict[str, float]:
    """Mean metrics over the users with positives in the split, ranking every item.

    Masks each user's training items (and validation items when split == "test") before the top-k.
    Keys (per k): recall, ndcg (both always), hit, mrr, coverage, gini, novelty, ild (with item_vectors
    or data.item_text), cold_recall (only when some positive is a cold item), ndcg@k|activity=level
    (terciles of training pair count); and users, the number evaluated. metrics="ndcg" computes only recall
    and ndcg, for early stopping.
    """
    target = data.test if split == "test" else data.valid
    seen = seen_items(data, exclude_valid=split == "test")
    positives_of = UserItems([target], data.n_users)
    candidates = np.unique(target.users)
    full = metrics == "full"
    top_n = min(max(ks), data.n_items)
    cuts = {k: min(k, top_n) for k in ks}
    per_user: dict[str, list[torch.Tensor]] = {}
    counts = {k: torch.zeros(data.n_items, dtype=torch.long) for k in ks}
    novelty_sum = dict.fromkeys(ks, 0.0)
    slots = dict.fromkeys(ks, 0)
    vectors = item_vectors if item_vectors is not None else data.item_text
    unit, usable = (
        M.unit_vectors(torch.from_numpy(np.asarray(vectors, np.float32)))
        if vectors is not None and full
        else (None, None)
    )
    information = M.item_self_information(data.train.items, data.n_items) if full else None
    cold = torch.zeros(data.n_items, dtype=torch.bool)
    cold[torch.from_numpy(data.cold_items())] = True
    evaluated: list[np.ndarray] = []

    def add(key: str, values: torch.Tensor) -> None:
        per_user.setdefault(key, []).append(values.double())

    for start in range(0, candidates.shape[0], batch_users):
        batch = torch.from_numpy(candidates[start : start + batch_users])
        scores = _masked_scores(score, batch, seen, data.n_items)
        positives = positives_of.dense(batch, data.n_items)
        row, item = seen.rows(batch)
        positives[row, item] = False
        n_pos = positives.sum(1)
        keep = n_pos > 0  # a positive the user already had in train/valid cannot count
        if not bool(keep.any()):
            continue
        batch, scores, positives, n_pos = batch[keep], scores[keep], positives[keep], n_pos[keep]
        evaluated.append(batch.numpy())
        best = scores.topk(top_n, dim=1)
        top, real = best.indices, torch.isfinite(best.values)
        hits = M.hits_matrix(top, positives) & real
        if full:
            n_cold_pos = M.cold_positive_counts(positives, cold)
            cosine = M.list_cosines(top, unit) if unit is not None else None
        for k, cut in cuts.items():
            top_k_hits = hits[:, :cut]
            add(f"recall@{k}", M.recall_at_k(top_k_hits, n_pos))
            add(f"ndcg@{k}", M.ndcg_at_k(top_k_hits, n_pos))
            if not full:
                continue
            add(f"hit@{k}", M.hit_at_k(top_k_hits))
            add(f"mrr@{k}", M.mrr_at_k(top_k_hits))
            add(f"cold_recall@{k}", M.cold_recall_at_k(top_k_hits, top[:, :cut], cold, n_cold_pos))
            counts[k] += M.recommendation_counts(top[:, :cut], data.n_items, real[:, :cut])
            if information is not None:
                novelty_sum[k] += float(information[top[:, :cut]][real[:, :cut]].sum())
                slots[k] += int(real[:, :cut].sum())
            if cosine is not None and usable is not None:
                slot_ok = usable[top[:, :cut]] & real[:, :cut]
                add(f"ild@{k}", M.intra_list_distance_from(cosine[:, :cut, :cut], slot_ok))

    result: dict[str, float] = {"users": float(sum(part.shape[0] for part in evaluated))}
    if not evaluated:
        return result
    for key, parts in per_user.items():
        values = torch.cat(parts)
        values = values[~torch.isnan(values)]
        if values.numel():
            result[key] = float(values.mean())
    if full:
        users = np.concatenate(evaluated)
        train_counts = np.bincount(data.train.users, minlength=data.n_users)[users]
        levels = _activity_levels(train_counts)
        for k in ks:
            result[f"coverage@{k}"] = M.coverage(counts[k])
            result[f"gini@{k}"] = M.gini(counts[k])
            if slots[k]:
                result[f"novelty@{k}"] = novelty_sum[k] / slots[k]
            ndcg = torch.cat(per_user[f"ndcg@{k}"]).numpy()
            for level, mask in levels.items():
                if mask.any():
                    result[f"ndcg@{k}|activity={level}"] = float(ndcg[mask].mean())
    return result
