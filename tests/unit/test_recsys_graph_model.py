"""The KG-text graph model: learns planted tastes, ranks cold items through text, is reproducible."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from shopgraph.domain.recsys.baselines import Popularity
from shopgraph.domain.recsys.data import Interactions, RecDataset
from shopgraph.domain.recsys.evaluate import evaluate
from shopgraph.domain.recsys.graph_model import KgTextGcn, KgTextGcnConfig, normalized_adjacency

pytestmark = pytest.mark.unit


def planted(seed: int = 0) -> RecDataset:
    """Two user groups each liking one half of the items; the last 4 items of each half are never trained
    on but appear in test (cold); item text and a brand entity say which half an item belongs to."""
    rng = np.random.default_rng(seed)
    n_users, n_items, cold_per_half = 60, 40, 4
    half = n_items // 2
    users, items, split = [], [], []
    for user in range(n_users):
        group = user % 2
        warm = np.arange(group * half, group * half + half - cold_per_half)
        cold = np.arange(group * half + half - cold_per_half, group * half + half)
        chosen = rng.choice(warm, 8, replace=False)
        users += [user] * 10
        items += [*chosen.tolist(), *rng.choice(cold, 2, replace=False).tolist()]
        split += [0] * 6 + [1] + [2] + [2, 2]
    users_a, items_a, split_a = np.array(users), np.array(items), np.array(split)
    # A popular item outside both tastes, so popularity has a distinct (wrong) answer.
    noise = Interactions(
        np.arange(n_users), np.full(n_users, 0), np.ones(n_users, np.float32), np.zeros(n_users, np.int64)
    )
    pairs = Interactions(users_a, items_a, np.ones(len(users_a), np.float32), np.arange(len(users_a)))
    train = pairs.select(split_a == 0)
    train = Interactions(
        np.concatenate([train.users, noise.users[1::2]]),
        np.concatenate([train.items, noise.items[1::2]]),
        np.concatenate([train.weights, noise.weights[1::2]]),
        np.concatenate([train.times, noise.times[1::2]]),
    )
    text = np.zeros((n_items, 8), np.float32)
    text[:half, 0] = 1.0
    text[half:, 1] = 1.0
    text += rng.normal(0, 0.05, text.shape).astype(np.float32)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    item_entities = np.array([[item, 0 if item < half else 1] for item in range(n_items)], np.int64)
    return RecDataset(
        name="planted",
        split="predefined",
        user_ids=[f"u{u}" for u in range(n_users)],
        item_ids=[f"p{i}" for i in range(n_items)],
        train=train,
        valid=pairs.select(split_a == 1),
        test=pairs.select(split_a == 2),
        entity_ids=["brand:a", "brand:b"],
        entity_types=["brand", "brand"],
        item_entities=item_entities,
        item_text=text,
    )


CONFIG = KgTextGcnConfig(dim=16, layers=2, epochs=30, batch_size=256, lr=0.02, patience=30, seed=3)


def test_adjacency_is_symmetric_and_normalised() -> None:
    data = planted()
    adjacency = normalized_adjacency(data).to_dense()
    assert torch.allclose(adjacency, adjacency.T)
    assert adjacency.shape[0] == data.n_users + data.n_items
    degree = (adjacency > 0).sum(1)
    assert int(degree[: data.n_users].min()) > 0


def test_graph_model_beats_popularity_and_recalls_cold_items() -> None:
    data = planted()
    model = KgTextGcn(CONFIG)
    seen: list[int] = []
    model.fit(data, lambda epoch, metrics: seen.append(epoch))
    popularity = Popularity()
    popularity.fit(data)
    ours = evaluate(model.score, data, split="test", ks=(10, 20))
    baseline = evaluate(popularity.score, data, split="test", ks=(10, 20))
    assert seen and ours["ndcg@10"] > baseline["ndcg@10"] + 0.1
    assert ours.get("cold_recall@10", 0.0) > 0.3
    assert baseline.get("cold_recall@10", 0.0) == 0.0


def test_same_seed_same_scores() -> None:
    data = planted()
    first, second = KgTextGcn(CONFIG), KgTextGcn(CONFIG)
    first.fit(data)
    second.fit(data)
    users = torch.arange(5)
    assert torch.allclose(first.score(users), second.score(users), atol=1e-5)
