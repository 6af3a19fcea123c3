"""Train/valid/test splits of unique user-item pairs: global time, leave-last-out or predefined."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from shopgraph.domain.recsys.data import Interactions

SplitMethod = Literal["time", "leave_last_out", "predefined"]
TRAIN, VALID, TEST = 0, 1, 2


@dataclass(frozen=True)
class SplitReport:
    """Row counts per split, and the valid/test rows dropped because their user has no training pair."""

    method: str
    train: int
    valid: int
    test: int
    dropped_valid: int
    dropped_test: int
    cold_items: int  # distinct items in valid or test with no training pair (kept: cold-start items)


def _check_unique_pairs(pairs: Interactions) -> None:
    if not len(pairs):
        return
    width = int(pairs.items.max()) + 1
    keys = pairs.users.astype(np.int64) * width + pairs.items.astype(np.int64)
    if np.unique(keys).shape[0] != keys.shape[0]:
        raise ValueError("split_interactions needs one row per (user, item) pair; found duplicates")


def _latest(times: np.ndarray, users: np.ndarray, items: np.ndarray, count: int) -> np.ndarray:
    """Positions of the `count` latest rows, ordered by (time, user, item) so ties break deterministically."""
    order = np.lexsort((items, users, times))
    return order[order.shape[0] - count :] if count > 0 else order[:0]


def _time_codes(pairs: Interactions, valid_share: float, test_share: float) -> np.ndarray:
    n = len(pairs)
    n_test = min(n, int(round(n * test_share)))
    n_valid = min(n - n_test, int(round(n * valid_share)))
    codes = np.zeros(n, np.int8)
    latest = _latest(pairs.times, pairs.users, pairs.items, n_test + n_valid)
    codes[latest[:n_valid]] = VALID
    codes[latest[n_valid:]] = TEST
    return codes


def _leave_last_out_codes(pairs: Interactions) -> np.ndarray:
    """Per user with 3+ pairs: the last pair by (time, item) is test, the one before it valid."""
    n = len(pairs)
    codes = np.zeros(n, np.int8)
    if not n:
        return codes
    order = np.lexsort((pairs.items, pairs.times, pairs.users))
    users = pairs.users[order]
    starts = np.flatnonzero(np.r_[True, users[1:] != users[:-1]])
    sizes = np.diff(np.r_[starts, n])
    size = np.repeat(sizes, sizes)
    from_end = np.repeat(starts + sizes, sizes) - 1 - np.arange(n)  # 0 = the user's last pair
    eligible = size >= 3
    codes[order[eligible & (from_end == 0)]] = TEST
    codes[order[eligible & (from_end == 1)]] = VALID
    return codes


def _predefined_codes(pairs: Interactions, predefined: np.ndarray | None, valid_share: float) -> np.ndarray:
    if predefined is None:
        raise ValueError("split 'predefined' needs the predefined array (0 train, 1 valid, 2 test)")
    codes = np.asarray(predefined).astype(np.int8, copy=True)
    if codes.shape != (len(pairs),):
        raise ValueError(f"predefined has shape {codes.shape}; expected ({len(pairs)},)")
    if codes.size and not np.isin(codes, (TRAIN, VALID, TEST)).all():
        raise ValueError("predefined codes must be 0 (train), 1 (valid) or 2 (test)")
    if not (codes == VALID).any():
        # No validation rows given: the latest valid_share of the training rows, by the time rule.
        train = np.flatnonzero(codes == TRAIN)
        count = min(train.shape[0], int(round(train.shape[0] * valid_share)))
        latest = _latest(pairs.times[train], pairs.users[train], pairs.items[train], count)
        codes[train[latest]] = VALID
    return codes


def split_interactions_report(
    pairs: Interactions,
    method: SplitMethod,
    valid_share: float = 0.1,
    test_share: float = 0.1,
    predefined: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[Interactions, Interactions, Interactions, SplitReport]:
    """split_interactions plus a SplitReport of what was dropped.

    Every method is deterministic (ties break by time, user, item); seed is accepted so callers can pass
    their configured seed uniformly and does not change the result.
    """
    del seed
    _check_unique_pairs(pairs)
    if method == "time":
        codes = _time_codes(pairs, valid_share, test_share)
    elif method == "leave_last_out":
        codes = _leave_last_out_codes(pairs)
    elif method == "predefined":
        codes = _predefined_codes(pairs, predefined, valid_share)
    else:
        raise ValueError(f"unknown split method {method!r}; choose time, leave_last_out or predefined")
    # A user without training history cannot be ranked: their valid/test rows are dropped.
    has_history = np.isin(pairs.users, pairs.users[codes == TRAIN])
    train = pairs.select(codes == TRAIN)
    valid = pairs.select((codes == VALID) & has_history)
    test = pairs.select((codes == TEST) & has_history)
    held_out_items = np.union1d(valid.items, test.items)
    report = SplitReport(
        method=method,
        train=len(train),
        valid=len(valid),
        test=len(test),
        dropped_valid=int(((codes == VALID) & ~has_history).sum()),
        dropped_test=int(((codes == TEST) & ~has_history).sum()),
        cold_items=int((~np.isin(held_out_items, train.items)).sum()),
    )
    return train, valid, test, report


def split_interactions(
    pairs: Interactions,
    method: SplitMethod,
    valid_share: float = 0.1,
    test_share: float = 0.1,
    predefined: np.ndarray | None = None,
    seed: int = 0,
) -> tuple[Interactions, Interactions, Interactions]:
    """(train, valid, test) of one-row-per-pair interactions (time = first interaction time).

    time: the latest test_share of pairs by (time, user, item) are test, the valid_share before them valid.
    leave_last_out: per user with 3+ pairs, the last pair by (time, item) is test, the one before valid;
    users with fewer pairs stay in train. predefined: codes 0 train, 1 valid, 2 test per row; with no
    valid row, the latest valid_share of the training rows become valid. Each pair lands in exactly one
    split; valid/test rows of users without a training pair are dropped; items seen only in valid/test stay
    (cold-start items).
    """
    train, valid, test, _ = split_interactions_report(
        pairs, method, valid_share=valid_share, test_share=test_share, predefined=predefined, seed=seed
    )
    return train, valid, test
