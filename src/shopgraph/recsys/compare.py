"""Champion vs challenger on the same split: score a stored scorer against the current dataset's ids."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from shopgraph.domain.recsys.data import RecDataset
from shopgraph.domain.recsys.evaluate import evaluate
from shopgraph.recsys.scorer import FactorScorer


def aligned_score(scorer: FactorScorer, data: RecDataset) -> Callable[[torch.Tensor], torch.Tensor]:
    """A score function over data's user and item indexes; users or items the scorer never saw get zero
    vectors (so unknown items score 0 and unknown users rank nothing above anything else)."""

    def rows(ids: list[str], known: np.ndarray, vectors: np.ndarray) -> torch.Tensor:
        lookup = {str(key): index for index, key in enumerate(known.tolist())}
        out = np.zeros((len(ids), vectors.shape[1]), np.float32)
        found = [(position, lookup[key]) for position, key in enumerate(ids) if key in lookup]
        if found:
            positions, indexes = zip(*found, strict=True)
            out[list(positions)] = vectors[list(indexes)]
        return torch.from_numpy(out)

    users = rows(data.user_ids, scorer.user_ids, scorer.users)
    items = rows(data.item_ids, scorer.item_ids, scorer.items)

    def score(batch: torch.Tensor) -> torch.Tensor:
        return users[batch] @ items.T

    return score


def evaluate_scorer(
    scorer: FactorScorer, data: RecDataset, ks: tuple[int, ...] = (10, 20, 50)
) -> dict[str, float]:
    """Test metrics of a stored scorer on data's test split, keys prefixed with 'test.'."""
    metrics = evaluate(aligned_score(scorer, data), data, split="test", ks=ks)
    return {f"test.{key}": float(value) for key, value in metrics.items()}
