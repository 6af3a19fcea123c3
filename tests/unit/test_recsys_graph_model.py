"""The KG-text graph model: learns planted tastes, ranks cold items through text, is reproducible."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from shopgraph.domain.recsys.baselines import EASE, Popularity
from shopgraph.domain.recsys.data import Interactions, RecDataset
from shopgraph.domain.recsys.evaluate import evaluate
from shopgraph.domain.recsys.graph_model import (
    KgTextGcn,
    KgTextGcnConfig,
    cold_mixing,
    normalized_adjacency,
    recency_weights,
)

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


def test_recency_weights_count_later_items_per_user() -> None:
    users = np.array([0, 0, 1, 0, 1])
    times = np.array([3, 1, 5, 2, 5])  # user 1's two pairs tie: the later row is the latest
    weights = recency_weights(users, times, tau=1.0, boost=2.0)
    e1, e2 = 1 + 2 * np.exp(-1.0), 1 + 2 * np.exp(-2.0)
    assert np.allclose(weights, [3.0, e2, e1, e1, 3.0])
    assert np.array_equal(recency_weights(users, times, tau=0.0, boost=2.0), np.ones(5, np.float32))
    # Unknown times (0) carry no order: those pairs weigh 1 and do not age the user's dated pairs.
    unknown = recency_weights(np.array([0, 0, 0]), np.array([0, 7, 0]), tau=1.0, boost=2.0)
    assert np.allclose(unknown, [1.0, 3.0, 1.0])


def test_recency_weighted_item_item_part_and_factors_reproduce_scores() -> None:
    data = planted()
    config = KgTextGcnConfig(
        dim=8, layers=1, epochs=2, item_item=1.5, item_item_l2=5.0, recency_tau=2.0, recency_boost=3.0
    )
    model = KgTextGcn(config)
    model.fit(data)
    ease = EASE(l2=5.0)
    ease.fit(data)
    assert ease.weights is not None and model.user_vectors is not None and model.item_vectors is not None
    train = data.train
    history = torch.zeros(data.n_users, data.n_items)
    weights = recency_weights(train.users, train.times, 2.0, 3.0)
    history[torch.from_numpy(train.users), torch.from_numpy(train.items)] = torch.from_numpy(weights)
    users = torch.arange(data.n_users)
    graph_part = model.user_vectors @ model.item_vectors.T
    assert torch.allclose(model.score(users) - graph_part, 1.5 * history @ ease.weights, atol=1e-4)
    user_factors, item_factors = model.factors()
    assert np.allclose(user_factors @ item_factors.T, model.score(users).numpy(), atol=1e-4)


def test_graph_debias_removes_that_share_of_each_items_mean_score() -> None:
    data = planted()
    base = KgTextGcnConfig(dim=8, layers=1, epochs=1, item_item=0.0)  # one epoch: same weights either way
    plain, half = KgTextGcn(base), KgTextGcn(replace(base, graph_debias=0.5))
    plain.fit(data)
    half.fit(data)
    users = torch.arange(data.n_users)
    before = plain.score(users)
    assert torch.allclose(half.score(users), before - 0.5 * before.mean(0), atol=1e-5)
    user_factors, item_factors = half.factors()
    assert np.allclose(user_factors @ item_factors.T, half.score(users).numpy(), atol=1e-5)


def test_cold_mixing_weights_the_most_similar_warm_items() -> None:
    content = torch.tensor([[1.0, 0.0], [0.0, 1.0], [3.0, 1.0], [1.0, -1.0]])
    warm = torch.tensor([True, True, False, True])
    weights = cold_mixing(content, warm, k=2)
    # cosines of item 2 with items 0, 1, 3: 3/sqrt(10), 1/sqrt(10), 2/sqrt(20); the best two are 0 and 3.
    best = torch.tensor([3 / 10**0.5, 2 / 20**0.5])
    expected = torch.zeros(1, 4)
    expected[0, [0, 3]] = best / best.sum()
    assert torch.allclose(weights, expected, atol=1e-6)


def test_cold_items_take_their_neighbours_item_item_scores_and_factors_reproduce_scores() -> None:
    data = planted()
    config = KgTextGcnConfig(dim=8, layers=1, epochs=2, item_item=1.0, item_item_l2=5.0, cold_neighbours=3)
    model, plain = KgTextGcn(config), KgTextGcn(replace(config, cold_neighbours=0))
    model.fit(data)
    plain.fit(data)
    users = torch.arange(data.n_users)
    cold = torch.from_numpy(data.cold_items())
    assert plain.user_vectors is not None and plain.item_vectors is not None
    assert model.user_vectors is not None and model.item_vectors is not None
    extra = plain.score(users) - plain.user_vectors @ plain.item_vectors.T
    assert torch.allclose(extra[:, cold], torch.zeros(1), atol=1e-6)  # no item-item weights of their own
    chosen, mix = model._cold, model._cold_mix  # noqa: SLF001
    assert chosen is not None and mix is not None and torch.equal(chosen, cold)
    mixed = model.score(users) - model.user_vectors @ model.item_vectors.T
    assert torch.allclose(mixed[:, cold], extra @ mix.T, atol=1e-4)
    warm = torch.ones(data.n_items, dtype=torch.bool)
    warm[cold] = False
    assert torch.allclose(mixed[:, warm], extra[:, warm], atol=1e-4)
    assert float(mixed[:, cold].abs().sum()) > 0
    user_factors, item_factors = model.factors()
    assert np.allclose(user_factors @ item_factors.T, model.score(users).numpy(), atol=1e-4)
