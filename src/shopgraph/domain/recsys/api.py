"""The recommender protocol every model (baselines and the graph model) implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import torch

from shopgraph.domain.recsys.data import RecDataset

EpochCallback = Callable[[int, dict[str, float]], None]


class Recommender(Protocol):
    """fit on data.train (valid may be used for early stopping only); score users against every item."""

    name: str

    def fit(self, data: RecDataset, on_epoch: EpochCallback | None = None) -> None: ...

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """(len(users) x n_items) float32 CPU scores, higher is better; training items are not masked."""
        ...
