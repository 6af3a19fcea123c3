"""Ranking metrics against hand-computed cases; evaluation masks seen items, aggregates and is fast."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import torch

from shopgraph.domain.recsys import metrics as M
from shopgraph.domain.recsys.data import Interactions, RecDataset
from shopgraph.domain.recsys.evaluate import evaluate, top_k

pytestmark = pytest.mark.unit

# 2 users, 5 items: user 0 is shown [0, 1, 2] and likes {1, 3}; user 1 is shown [3, 4, 0] and likes {0}.
TOP = torch.tensor([[0, 1, 2], [3, 4, 0]])
POSITIVES = torch.tensor([[False, True, False, True, False], [True, False, False, False, False]])


def pairs(rows: list[tuple[int, int]], times: list[int] | None = None) -> Interactions:
    users = np.array([r[0] for r in rows], np.int64)
    items = np.array([r[1] for r in rows], np.int64)
    stamps = np.array(times if times is not None else range(len(rows)), np.int64)
    return Interactions(users, items, np.ones(len(rows), np.float32), stamps)


def dataset(
    train: list[tuple[int, int]],
    valid: list[tuple[int, int]],
    test: list[tuple[int, int]],
    n_users: int,
    n_items: int,
    item_text: np.ndarray | None = None,
) -> RecDataset:
    return RecDataset(
        name="t",
        split="predefined",
        user_ids=[f"u{u}" for u in range(n_users)],
        item_ids=[f"p{i}" for i in range(n_items)],
        train=pairs(train),
        valid=pairs(valid),
        test=pairs(test),
        item_text=item_text,
    )


def test_accuracy_metrics_by_hand() -> None:
    hits = M.hits_matrix(TOP, POSITIVES)
    n_pos = POSITIVES.sum(1)
    assert hits.tolist() == [[False, True, False], [False, False, True]]
    assert M.recall_at_k(hits, n_pos).tolist() == pytest.approx([0.5, 1.0])
    # user 0: DCG 1/log2(3), ideal over min(3, 2) hits 1 + 1/log2(3); user 1: DCG 1/log2(4), ideal 1.
    expected_0 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert M.ndcg_at_k(hits, n_pos).tolist() == pytest.approx([expected_0, 0.5])
    assert M.hit_at_k(hits).tolist() == [1.0, 1.0]
    assert M.mrr_at_k(hits).tolist() == pytest.approx([1 / 2, 1 / 3])
    first = hits[:, :1]
    assert M.recall_at_k(first, n_pos).tolist() == [0.0, 0.0]
    assert M.ndcg_at_k(first, n_pos).tolist() == [0.0, 0.0]
    assert M.mrr_at_k(first).tolist() == [0.0, 0.0]
    perfect = torch.tensor([[True, True, False]])
    assert M.ndcg_at_k(perfect, torch.tensor([2])).tolist() == pytest.approx([1.0])
    assert M.ndcg_at_k(perfect, torch.tensor([5])).tolist() == pytest.approx(
        [(1 + 1 / math.log2(3)) / (1 + 1 / math.log2(3) + 0.5)]
    )


def test_catalogue_metrics_by_hand() -> None:
    counts = M.recommendation_counts(TOP, 5)
    assert counts.tolist() == [2, 1, 1, 1, 1]
    assert M.coverage(counts) == 1.0
    assert M.coverage(M.recommendation_counts(TOP[:, :1], 5)) == pytest.approx(2 / 5)
    # sorted [1, 1, 1, 1, 2]: sum (2i - n - 1) x_i = -4 - 2 + 0 + 2 + 8 = 4, over n * total = 30
    assert M.gini(counts) == pytest.approx(4 / 30)
    assert M.gini(torch.tensor([3, 0, 0, 0, 0])) == pytest.approx(0.8)
    assert M.gini(torch.tensor([2, 2, 2])) == pytest.approx(0.0)
    # train counts [3, 1, 0, 0, 0], add-one shares [4/9, 2/9, 1/9, 1/9, 1/9]
    information = M.item_self_information(np.array([0, 0, 0, 1]), 5)
    assert information.tolist() == pytest.approx(
        [-math.log2(4 / 9), -math.log2(2 / 9)] + [-math.log2(1 / 9)] * 3
    )
    assert M.novelty(torch.tensor([[0, 1]]), information) == pytest.approx(
        (-math.log2(4 / 9) - math.log2(2 / 9)) / 2
    )


def test_intra_list_distance_and_cold_recall_by_hand() -> None:
    vectors = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.0, 0.0]])
    distance = M.intra_list_distance(torch.tensor([[0, 1, 2], [0, 3, 3]]), vectors)
    far = 1 - 1 / math.sqrt(2)
    assert distance[0].item() == pytest.approx((1.0 + far + far) / 3, rel=1e-5)
    assert math.isnan(distance[1].item())  # item 3 has no vector: no usable pair
    cold = torch.tensor([False, False, False, True, True])
    hits = M.hits_matrix(TOP, POSITIVES)
    # user 0's only cold positive (3) is not shown; user 1 has no cold positive and is left out
    n_cold = M.cold_positive_counts(POSITIVES, cold)
    assert n_cold.tolist() == [1, 0]
    assert M.cold_recall_at_k(hits, TOP, cold, n_cold).tolist() == [0.0]
    shown = torch.tensor([[3, 1, 0], [3, 4, 0]])
    assert M.cold_recall_at_k(M.hits_matrix(shown, POSITIVES), shown, cold, n_cold).tolist() == [1.0]


def fixed_scores(table: list[list[float]]) -> torch.Tensor:
    return torch.tensor(table, dtype=torch.float32)


def test_evaluate_masks_seen_items_and_averages_by_hand() -> None:
    # user 0 trained on 0, validated on 1, tested on 2 and 4; user 1 trained on 3, tested on 0; item 4 cold.
    data = dataset([(0, 0), (1, 3), (2, 0), (2, 1)], [(0, 1)], [(0, 2), (0, 4), (1, 0)], 3, 5)
    # The seen items score highest, so an unmasked ranking would put them first.
    table = fixed_scores([[9, 8, 1, 0, 2], [3, 0, 0, 9, 1], [0, 0, 0, 0, 0]])

    def score(users: torch.Tensor) -> torch.Tensor:
        return table[users]

    result = evaluate(score, data, split="test", ks=(1, 2))
    # user 0 ranks [4, 2, 3] (0 train, 1 valid masked): hits at 1 and 2; user 1 ranks [0, 4, ...]: hit at 1.
    assert result["users"] == 2.0
    assert result["recall@1"] == pytest.approx((0.5 + 1.0) / 2)
    assert result["recall@2"] == pytest.approx(1.0)
    assert result["ndcg@2"] == pytest.approx(1.0)
    assert result["hit@1"] == 1.0 and result["mrr@1"] == 1.0
    assert result["coverage@1"] == pytest.approx(2 / 5)  # items 4 and 0
    # items 2 and 4 are cold (never in train): user 0's first slot finds one of its two; user 1 has none
    assert result["cold_recall@1"] == pytest.approx(0.5)
    assert result["cold_recall@2"] == pytest.approx(1.0)
    assert "ild@1" not in result  # no item vectors anywhere
    assert "ndcg@2|activity=low" in result
    only_warm = evaluate(score, dataset([(0, 0), (1, 3)], [], [(1, 0)], 2, 5), ks=(1,))
    assert "cold_recall@1" not in only_warm  # no cold positive: omitted rather than NaN
    valid = evaluate(score, data, split="valid", ks=(1,), metrics="ndcg")
    # On valid only train is masked: user 0 ranks [1, ...]: a hit; only recall and ndcg are computed.
    assert valid == {"users": 1.0, "recall@1": 1.0, "ndcg@1": 1.0}


def test_evaluate_drops_positives_already_seen_and_uses_item_text() -> None:
    text = np.eye(4, dtype=np.float32)
    data = dataset([(0, 0), (1, 1)], [], [(0, 0), (1, 2)], 2, 4, item_text=text)

    def score(users: torch.Tensor) -> torch.Tensor:
        return torch.arange(4, dtype=torch.float32).repeat(users.shape[0], 1)

    result = evaluate(score, data, ks=(2,))
    assert result["users"] == 1.0  # user 0's only test item is a train item: nothing left to find
    assert result["recall@2"] == 1.0  # user 1 ranks [3, 2]
    assert result["ild@2"] == pytest.approx(1.0)  # orthogonal text vectors
    assert result["cold_recall@2"] == 1.0  # item 2 was never trained on


def test_top_k_never_returns_masked_items() -> None:
    rng = np.random.default_rng(0)
    n_users, n_items = 50, 30
    train = [(u, int(i)) for u in range(n_users) for i in rng.choice(n_items, 10, replace=False)]
    taken = set(train)
    valid = [(u, i) for u in range(n_users) for i in range(n_items) if (u, i) not in taken][::7]
    data = dataset(train, valid, [], n_users, n_items)
    seen = torch.zeros(n_users, n_items)
    for u, i in train:
        seen[u, i] = 100.0
    for u, i in valid:
        seen[u, i] = 50.0

    def score(users: torch.Tensor) -> torch.Tensor:
        return seen[users] + torch.rand(users.shape[0], n_items)

    indices, scores = top_k(score, data, torch.arange(n_users), 15, exclude_valid=True, batch_users=7)
    assert indices.shape == (n_users, 15)
    assert torch.isfinite(scores).all()
    recommended = {(u, i) for u, row in enumerate(indices.tolist()) for i in row}
    assert not recommended & taken and not recommended & set(valid)
    with_valid, _ = top_k(score, data, torch.arange(n_users), 15, exclude_valid=False)
    assert {(u, i) for u, row in enumerate(with_valid.tolist()) for i in row} & set(valid)
    # More slots than unseen items: the remainder is marked -inf rather than filled with seen items.
    _, padded = top_k(score, data, torch.arange(1), n_items, exclude_valid=False)
    assert int(torch.isfinite(padded).sum()) == n_items - 10


def test_evaluate_is_fast_on_a_thousand_users() -> None:
    rng = np.random.default_rng(1)
    n_users, n_items = 1000, 2000
    users = np.repeat(np.arange(n_users), 25)
    items = rng.integers(0, n_items, users.shape[0])
    keys = np.unique(users * n_items + items)
    users, items = keys // n_items, keys % n_items
    code = rng.random(users.shape[0])
    text = rng.normal(size=(n_items, 32)).astype(np.float32)
    data = RecDataset(
        name="big",
        split="predefined",
        user_ids=[str(u) for u in range(n_users)],
        item_ids=[str(i) for i in range(n_items)],
        train=pairs(list(zip(users[code < 0.8], items[code < 0.8], strict=True))),
        valid=Interactions.empty(),
        test=pairs(list(zip(users[code >= 0.8], items[code >= 0.8], strict=True))),
        item_text=text,
    )
    factors = torch.from_numpy(rng.normal(size=(n_users, 16)).astype(np.float32))
    item_factors = torch.from_numpy(rng.normal(size=(n_items, 16)).astype(np.float32))

    def score(batch: torch.Tensor) -> torch.Tensor:
        return factors[batch] @ item_factors.T

    evaluate(score, data, ks=(10, 20, 50))  # warm-up
    # CPU time on one thread: the budget holds on a shared machine where wall time depends on neighbours.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        started = time.process_time()
        result = evaluate(score, data, ks=(10, 20, 50))
        elapsed = time.process_time() - started
    finally:
        torch.set_num_threads(threads)
    assert result["users"] == pytest.approx(len(np.unique(data.test.users)))
    assert 0.0 < result["recall@50"] < 0.1  # random factors: about 50 / 2000
    assert {"ild@20", "gini@20", "novelty@20", "ndcg@20|activity=high"} <= set(result)
    assert elapsed < 1.0, f"evaluate took {elapsed:.2f}s of CPU"
