"""Baselines learn planted tastes and beat random and popularity; BPR sampling and training are exact."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import numpy as np
import pytest
import torch

from shopgraph.domain.recsys.baselines import BPRMF, EASE, ItemKNN, Popularity
from shopgraph.domain.recsys.data import Interactions, RecDataset
from shopgraph.domain.recsys.evaluate import evaluate
from shopgraph.domain.recsys.sampling import sample_triples

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """Tiny tensors: one intra-op thread is faster, and far faster on a machine shared with other jobs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def interactions(users: list[int], items: list[int]) -> Interactions:
    n = len(users)
    return Interactions(
        np.array(users, np.int64),
        np.array(items, np.int64),
        np.ones(n, np.float32),
        np.arange(n, dtype=np.int64),
    )


def planted(seed: int = 0) -> RecDataset:
    """Two user groups (50 and 30 users) each liking one group of 40 items; 12 items per user: 9 train,
    1 valid, 2 test. The bigger group makes its items the most popular, which is wrong for the other."""
    rng = np.random.default_rng(seed)
    per_group = 40
    users, items, split = [], [], []
    for user in range(80):
        group = 0 if user < 50 else 1
        chosen = rng.choice(per_group, 12, replace=False) + group * per_group
        users += [user] * 12
        items += chosen.tolist()
        split += [0] * 9 + [1] + [2] * 2
    codes = np.array(split)
    pairs = interactions(users, items)
    return RecDataset(
        name="planted",
        split="predefined",
        user_ids=[f"u{u}" for u in range(80)],
        item_ids=[f"p{i}" for i in range(2 * per_group)],
        train=pairs.select(codes == 0),
        valid=pairs.select(codes == 1),
        test=pairs.select(codes == 2),
    )


def tiny(rows: list[tuple[int, int]], n_users: int, n_items: int) -> RecDataset:
    return RecDataset(
        name="tiny",
        split="predefined",
        user_ids=[str(u) for u in range(n_users)],
        item_ids=[str(i) for i in range(n_items)],
        train=interactions([r[0] for r in rows], [r[1] for r in rows]),
        valid=Interactions.empty(),
        test=Interactions.empty(),
    )


BPR = {"dim": 16, "epochs": 40, "lr": 0.05, "reg": 1e-4, "batch_size": 256, "patience": 10, "seed": 1}


def ndcg10(model: Popularity | ItemKNN | EASE | BPRMF, data: RecDataset) -> float:
    return evaluate(model.score, data, split="test", ks=(10,))["ndcg@10"]


def test_every_baseline_beats_random_and_the_personal_ones_beat_popularity() -> None:
    data = planted()
    generator = torch.Generator().manual_seed(0)

    def random_scores(users: torch.Tensor) -> torch.Tensor:
        return torch.rand(users.shape[0], data.n_items, generator=generator)

    chance = evaluate(random_scores, data, split="test", ks=(10,))["ndcg@10"]
    models: dict[str, Popularity | ItemKNN | EASE | BPRMF] = {
        "popularity": Popularity(),
        "item_knn": ItemKNN(k=20, shrink=10.0),
        "ease": EASE(l2=10.0, device="cpu"),
        "bpr": BPRMF(**BPR, device="cpu"),  # type: ignore[arg-type]
    }
    scores = {}
    for name, model in models.items():
        model.fit(data)
        assert model.name == name and isinstance(model.params(), dict)
        out = model.score(torch.tensor([0, 79]))
        assert out.shape == (2, data.n_items) and out.dtype == torch.float32 and out.device.type == "cpu"
        scores[name] = ndcg10(model, data)
    assert all(value > chance + 0.05 for value in scores.values()), (chance, scores)
    for name in ("item_knn", "ease", "bpr"):
        assert scores[name] > scores["popularity"] + 0.05, scores


def test_bpr_is_reproducible_reports_epochs_and_keeps_the_best() -> None:
    data = planted()
    seen: list[tuple[int, dict[str, float]]] = []
    first = BPRMF(**{**BPR, "epochs": 8}, device="cpu")  # type: ignore[arg-type]
    first.fit(data, lambda epoch, metrics: seen.append((epoch, metrics)))
    second = BPRMF(**{**BPR, "epochs": 8}, device="cpu")  # type: ignore[arg-type]
    second.fit(data)
    users = torch.arange(data.n_users)
    assert torch.equal(first.score(users), second.score(users))
    other = BPRMF(**{**BPR, "epochs": 8, "seed": 2}, device="cpu")  # type: ignore[arg-type]
    other.fit(data)
    assert not torch.equal(first.score(users), other.score(users))
    assert [epoch for epoch, _ in seen] == list(range(1, len(seen) + 1))
    assert all({"loss", "val_ndcg@20", "epoch_s"} <= set(metrics) for _, metrics in seen)
    best = max(metrics["val_ndcg@20"] for _, metrics in seen)
    assert seen[first.best_epoch - 1][1]["val_ndcg@20"] == best
    kept = evaluate(first.score, data, split="valid", metrics="ndcg")["ndcg@20"]
    assert kept == pytest.approx(best)
    user_vectors, item_vectors = first.factors()
    assert np.allclose(user_vectors @ item_vectors.T, first.score(users).numpy(), atol=1e-5)


def test_bpr_stops_early_without_improvement() -> None:
    data = planted()
    seen: list[int] = []
    model = BPRMF(**{**BPR, "epochs": 50, "lr": 0.0, "patience": 2}, device="cpu")  # type: ignore[arg-type]
    model.fit(data, lambda epoch, metrics: seen.append(epoch))
    assert seen == [1, 2, 3]  # lr 0: epoch 1 is best, two stale epochs stop it
    assert model.best_epoch == 1


def test_ease_matches_the_closed_form() -> None:
    rows = [(0, 0), (0, 1), (1, 0), (1, 2), (2, 1), (2, 2), (3, 0), (3, 1), (3, 2)]
    model = EASE(l2=1.0, device="cpu")
    model.fit(tiny(rows, 4, 3))
    x = np.zeros((4, 3))
    for user, item in rows:
        x[user, item] = 1.0
    p = np.linalg.inv(x.T @ x + np.eye(3))
    expected = -p / np.diag(p)[None, :]
    np.fill_diagonal(expected, 0.0)
    assert model.weights is not None
    np.testing.assert_allclose(model.weights.numpy(), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        model.score(torch.tensor([1])).numpy()[0], x[1] @ expected, rtol=1e-5, atol=1e-6
    )


def test_item_knn_keeps_the_best_neighbour_per_item() -> None:
    # cos(0, 1) = 2 / sqrt(3 * 2), cos(0, 2) = 1 / sqrt(3), cos(1, 2) = 0; item 3 shares no user.
    data = tiny([(0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 2), (3, 3)], 4, 4)
    model = ItemKNN(k=1, shrink=0.0)
    model.fit(data)
    # user 2 holds {0, 2}: item 1's only neighbour is 0; item 0's is 1 (not held); item 2's is 0.
    expected = np.array([0.0, 2 / np.sqrt(6), 1 / np.sqrt(3), 0.0])
    np.testing.assert_allclose(model.score(torch.tensor([2])).numpy()[0], expected, rtol=1e-5)
    # Weighted: doubling every weight leaves cosines alone and doubles what the user brings.
    train = data.train
    doubled = replace(data, train=Interactions(train.users, train.items, train.weights * 2, train.times))
    weighted = ItemKNN(k=1, shrink=0.0, weighted=True)
    weighted.fit(doubled)
    np.testing.assert_allclose(weighted.score(torch.tensor([2])).numpy()[0], 2 * expected, rtol=1e-5)


def test_sampled_negatives_are_never_positives() -> None:
    rng = np.random.default_rng(0)
    users, items = [], []
    for user in range(5):
        chosen = rng.choice(10, 8, replace=False)  # 8 of 10 items: most uniform draws collide
        users += [user] * 8
        items += chosen.tolist()
    users += [5] * 10  # user 5 has every item: no negative exists
    items += list(range(10))
    train = interactions(users, items)
    known = set(zip(users, items, strict=True))
    u, p, n = sample_triples(train, 10, 20_000, torch.Generator().manual_seed(3))
    assert 0 < len(u) < 20_000 and 5 not in u.tolist()
    assert set(zip(u.tolist(), p.tolist(), strict=True)) <= known
    assert not set(zip(u.tolist(), n.tolist(), strict=True)) & known
    assert len(set(zip(u.tolist(), n.tolist(), strict=True))) == 5 * 2  # both free items of each user appear
    again = sample_triples(train, 10, 20_000, torch.Generator().manual_seed(3))
    assert all(torch.equal(a, b) for a, b in zip((u, p, n), again, strict=True))
    empty = sample_triples(Interactions.empty(), 10, 5, torch.Generator())
    assert all(len(part) == 0 for part in empty)
