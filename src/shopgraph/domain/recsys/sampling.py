"""BPR triple sampling: random training pairs with uniform negatives the user never interacted with."""

from __future__ import annotations

import numpy as np
import torch

from shopgraph.domain.recsys.data import Interactions

MAX_ROUNDS = 100


def pair_keys(users: torch.Tensor, items: torch.Tensor, n_items: int) -> torch.Tensor:
    """user * n_items + item as int64, a unique key per (user, item) pair."""
    return users.long() * n_items + items.long()


def contains(sorted_keys: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """Whether each key is in sorted_keys (ascending), by binary search."""
    if not sorted_keys.numel():
        return torch.zeros(keys.shape, dtype=torch.bool)
    # Searching sorted queries is several times faster than random ones (cache-friendly).
    ordered, order = keys.sort()
    position = torch.searchsorted(sorted_keys, ordered).clamp(max=sorted_keys.numel() - 1)
    found = torch.empty_like(ordered, dtype=torch.bool)
    found[order] = sorted_keys[position] == ordered
    return found


def sample_triples(
    train: Interactions, n_items: int, n: int, generator: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(users, positives, negatives): n training pairs drawn uniformly with replacement, each with a
    uniform negative item that is not a training positive of that user; int64 CPU tensors.

    Negatives that hit a positive are redrawn (only those rows) for up to MAX_ROUNDS rounds; triples
    still colliding after that (users who interacted with nearly every item) are dropped, so the result
    can be shorter than n, never wrong.
    """
    if not len(train) or n <= 0 or n_items <= 0:
        empty = torch.zeros(0, dtype=torch.long)
        return empty, empty.clone(), empty.clone()
    all_users = torch.from_numpy(train.users).long()
    all_items = torch.from_numpy(train.items).long()
    known = torch.from_numpy(np.sort(train.users.astype(np.int64) * n_items + train.items.astype(np.int64)))
    rows = torch.randint(len(train), (n,), generator=generator)
    users, positives = all_users[rows], all_items[rows]
    negatives = torch.randint(n_items, (n,), generator=generator)
    clash = torch.nonzero(contains(known, pair_keys(users, negatives, n_items))).flatten()
    for _ in range(MAX_ROUNDS):
        if not clash.numel():
            break
        negatives[clash] = torch.randint(n_items, (clash.numel(),), generator=generator)
        still = contains(known, pair_keys(users[clash], negatives[clash], n_items))
        clash = clash[still]
    if clash.numel():
        keep = torch.ones(n, dtype=torch.bool)
        keep[clash] = False
        users, positives, negatives = users[keep], positives[keep], negatives[keep]
    return users, positives, negatives
