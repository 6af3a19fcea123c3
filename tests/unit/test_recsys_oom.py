"""Training on a device that runs out of memory: the step is retried with the batch halved, nothing lost."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from shopgraph.domain.recsys import baselines
from shopgraph.domain.recsys.baselines import BPRMF
from shopgraph.domain.recsys.data import Interactions, RecDataset
from shopgraph.domain.recsys.graph_model import KgTextGcn, KgTextGcnConfig

pytestmark = pytest.mark.unit


def tiny() -> RecDataset:
    """30 users x 12 items, 6 pairs each (5 train, 1 valid), with item text."""
    rng = np.random.default_rng(0)
    users = np.repeat(np.arange(30), 6)
    items = np.concatenate([rng.choice(12, 6, replace=False) for _ in range(30)])
    pairs = Interactions(users, items, np.ones(len(users), np.float32), np.arange(len(users)))
    is_valid = np.tile([False] * 5 + [True], 30)
    text = rng.normal(size=(12, 4)).astype(np.float32)
    return RecDataset(
        name="tiny",
        split="predefined",
        user_ids=[f"u{u}" for u in range(30)],
        item_ids=[f"p{i}" for i in range(12)],
        train=pairs.select(~is_valid),
        valid=pairs.select(is_valid),
        test=Interactions.empty(),
        item_text=text / np.linalg.norm(text, axis=1, keepdims=True),
    )


@pytest.mark.parametrize("loss", ["bpr", "softmax"])
def test_graph_model_halves_the_batch_and_retries_on_out_of_memory(
    monkeypatch: pytest.MonkeyPatch, loss: str
) -> None:
    data = tiny()
    original = KgTextGcn._loss
    sizes: list[int] = []

    def flaky(self: KgTextGcn, *args: Any) -> torch.Tensor:
        users = args[3]  # network, adjacency, data, users, ...
        if not sizes:
            sizes.append(-int(users.shape[0]))  # the failed attempt
            raise torch.OutOfMemoryError("CUDA out of memory (injected)")
        sizes.append(int(users.shape[0]))
        return original(self, *args)

    monkeypatch.setattr(KgTextGcn, "_loss", flaky)
    model = KgTextGcn(
        KgTextGcnConfig(
            dim=8, layers=1, epochs=2, batch_size=64, min_steps=1, patience=5, loss=loss, negatives=4
        )
    )
    model.fit(data)
    assert sizes[0] == -64
    assert model.batches.batch_size == 32 and model.batches.halvings == 1
    assert set(sizes[1:]) <= {32, len(data.train) % 32}
    assert sum(sizes[1:]) == 2 * len(data.train)  # every row of both epochs trained exactly once
    assert model.score(torch.arange(3)).shape == (3, data.n_items)


def test_bpr_halves_the_batch_and_retries_on_out_of_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    data = tiny()
    original = baselines.nn.functional.softplus
    sizes: list[int] = []

    def flaky(gain: torch.Tensor) -> torch.Tensor:
        if not sizes:
            sizes.append(-int(gain.shape[0]))
            raise torch.OutOfMemoryError("CUDA out of memory (injected)")
        sizes.append(int(gain.shape[0]))
        return original(gain)

    monkeypatch.setattr(baselines.nn.functional, "softplus", flaky)
    model = BPRMF(dim=8, epochs=2, batch_size=64, patience=5)
    model.fit(data)
    assert sizes[0] == -64
    assert model.batches.batch_size == 32 and model.batches.halvings == 1
    assert sum(sizes[1:]) == 2 * len(data.train)
    assert model.score(torch.arange(3)).shape == (3, data.n_items)
