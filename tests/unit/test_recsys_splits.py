"""Splits: every pair in exactly one split, time order respected, last items held out, predefined kept."""

from __future__ import annotations

import numpy as np
import pytest

from shopgraph.domain.recsys.data import Interactions
from shopgraph.domain.recsys.splits import split_interactions, split_interactions_report

pytestmark = pytest.mark.unit


def pairs(rows: list[tuple[int, int, int]]) -> Interactions:
    """rows: user, item, time."""
    array = np.array(rows, np.int64).reshape(-1, 3)
    return Interactions(array[:, 0], array[:, 1], np.ones(len(rows), np.float32), array[:, 2])


def keys(part: Interactions) -> set[tuple[int, int]]:
    return set(zip(part.users.tolist(), part.items.tolist(), strict=True))


def random_pairs(seed: int = 0, n_users: int = 40, n_items: int = 60) -> Interactions:
    rng = np.random.default_rng(seed)
    rows = {
        (u, int(i)) for u in range(n_users) for i in rng.choice(n_items, rng.integers(1, 12), replace=False)
    }
    ordered = sorted(rows)
    times = rng.integers(0, 50, len(ordered))  # few distinct times: plenty of ties
    return pairs([(u, i, int(t)) for (u, i), t in zip(ordered, times, strict=True)])


def assert_partition(all_pairs: Interactions, parts: tuple[Interactions, ...], dropped: int) -> None:
    seen = [keys(part) for part in parts]
    assert sum(len(part) for part in parts) == sum(len(s) for s in seen)  # no duplicates inside a split
    for a in range(3):
        for b in range(a + 1, 3):
            assert not seen[a] & seen[b]
    assert len(seen[0] | seen[1] | seen[2]) + dropped == len(all_pairs)
    assert (seen[0] | seen[1] | seen[2]) <= keys(all_pairs)


def test_time_split_holds_out_the_latest_pairs() -> None:
    data = random_pairs()
    train, valid, test, report = split_interactions_report(data, "time", valid_share=0.1, test_share=0.2)
    assert_partition(data, (train, valid, test), report.dropped_valid + report.dropped_test)
    assert report.train == len(train) and report.valid == len(valid) and report.test == len(test)

    # Ties break by (time, user, item): compare tuples, not just times.
    def order(part: Interactions) -> list[tuple[int, int, int]]:
        return sorted(zip(part.times.tolist(), part.users.tolist(), part.items.tolist(), strict=True))

    assert order(train)[-1] < order(valid)[0] and order(valid)[-1] < order(test)[0]
    assert len(test) + report.dropped_test == round(len(data) * 0.2)
    assert len(valid) + report.dropped_valid == round(len(data) * 0.1)
    assert set(valid.users.tolist()) | set(test.users.tolist()) <= set(train.users.tolist())


def test_time_split_drops_held_out_rows_of_users_without_history_and_keeps_cold_items() -> None:
    # user 2 only appears late; item 9 is only ever bought late (cold).
    data = pairs([(0, 0, 1), (0, 1, 2), (1, 0, 3), (1, 2, 4), (0, 9, 8), (2, 3, 9)])
    train, valid, test, report = split_interactions_report(data, "time", valid_share=0.0, test_share=0.34)
    assert keys(test) == {(0, 9)}  # user 2 has no train pair: dropped, counted
    assert report.dropped_test == 1 and report.cold_items == 1
    assert keys(train) == {(0, 0), (0, 1), (1, 0), (1, 2)} and not len(valid)


def test_leave_last_out_picks_each_users_latest_pairs() -> None:
    data = pairs(
        [
            (0, 5, 10), (0, 1, 30), (0, 2, 20), (0, 3, 30),  # items 1 and 3 tie at t=30: item 3 is last
            (1, 0, 1), (1, 4, 2),  # only two pairs: all train
            (2, 7, 3), (2, 6, 2), (2, 8, 1),
        ]
    )  # fmt: skip
    train, valid, test = split_interactions(data, "leave_last_out")
    assert keys(test) == {(0, 3), (2, 7)}
    assert keys(valid) == {(0, 1), (2, 6)}
    assert keys(train) == {(0, 5), (0, 2), (1, 0), (1, 4), (2, 8)}


def test_leave_last_out_partition_on_random_pairs() -> None:
    data = random_pairs(seed=3)
    train, valid, test, report = split_interactions_report(data, "leave_last_out")
    assert_partition(data, (train, valid, test), 0)
    assert report.dropped_valid == report.dropped_test == 0
    counts = np.bincount(data.users)
    assert sorted(test.users.tolist()) == np.flatnonzero(counts >= 3).tolist()
    for user in np.unique(test.users):
        last = test.times[test.users == user][0]
        assert train.times[train.users == user].max() <= last
        assert valid.times[valid.users == user][0] <= last


def test_predefined_split_is_kept_and_valid_carved_from_train_when_missing() -> None:
    data = pairs([(0, 0, 1), (0, 1, 2), (0, 2, 3), (1, 0, 4), (1, 3, 5), (1, 4, 6), (2, 5, 7)])
    codes = np.array([0, 1, 2, 0, 0, 2, 2], np.int8)
    train, valid, test, report = split_interactions_report(data, "predefined", predefined=codes)
    assert keys(train) == {(0, 0), (1, 0), (1, 3)}
    assert keys(valid) == {(0, 1)} and keys(test) == {(0, 2), (1, 4)}
    assert report.dropped_test == 1  # user 2 has only a test pair
    no_valid = np.array([0, 0, 2, 0, 0, 2, 0], np.int8)
    train, valid, test = split_interactions(data, "predefined", valid_share=0.25, predefined=no_valid)
    # 5 train rows, 25% -> 1 row: the latest training pair (2, 5) at t=7, but user 2 then has no train left.
    assert keys(test) == {(0, 2), (1, 4)}
    assert not len(valid)
    train, valid, test = split_interactions(data, "predefined", valid_share=0.4, predefined=no_valid)
    assert keys(valid) == {(1, 3)}  # the two latest: (1, 3) at t=5 and (2, 5) at t=7 (dropped, no history)
    assert keys(train) == {(0, 0), (0, 1), (1, 0)}


def test_bad_input_is_refused() -> None:
    data = pairs([(0, 0, 1), (0, 1, 2)])
    with pytest.raises(ValueError, match="predefined array"):
        split_interactions(data, "predefined")
    with pytest.raises(ValueError, match="shape"):
        split_interactions(data, "predefined", predefined=np.zeros(3, np.int8))
    with pytest.raises(ValueError, match="codes"):
        split_interactions(data, "predefined", predefined=np.array([0, 3], np.int8))
    with pytest.raises(ValueError, match="duplicates"):
        split_interactions(pairs([(0, 0, 1), (0, 0, 2)]), "time")
    with pytest.raises(ValueError, match="unknown split"):
        split_interactions(data, "random")  # type: ignore[arg-type]
    train, valid, test = split_interactions(Interactions.empty(), "time")
    assert len(train) == len(valid) == len(test) == 0
