"""Current state of a change-set table (products, users): the latest row per key, tombstones applied."""

from __future__ import annotations

import polars as pl

from shopgraph.schemas import landing as L


def current_state(changes: pl.LazyFrame, key: str) -> pl.LazyFrame:
    """One row per live key from accumulated change rows (landing columns): the row with the greatest
    updated_at wins, keys whose winner is a tombstone are dropped; is_deleted is left out; sorted by key."""
    latest = changes.sort([key, L.UPDATED_AT], maintain_order=True).group_by(key, maintain_order=True).last()
    return latest.filter(~pl.col(L.IS_DELETED)).drop(L.IS_DELETED).sort(key)
