"""Deduplication by key among rows that passed every check: the latest updated_at wins, then file order."""

from __future__ import annotations

import polars as pl

from shopgraph.domain.ingest import reasons as R
from shopgraph.domain.ingest.checks import add_reason
from shopgraph.schemas import landing as L

_ORDER = "__order"
_WINNER = "__winner"


def mark_duplicates(frame: pl.DataFrame, keys: tuple[str, ...]) -> pl.DataFrame:
    """Give every row that repeats the key of a better row the reason duplicate_key.

    Reads reason, the key columns, updated_at (when present), source_file and source_row; writes reason
    and rule. The better row passed its checks, then has the latest updated_at, then (an exact copy) comes
    first in file order; rows already quarantined for another reason get duplicate_key added.
    Rows are returned in their original order.
    """
    if frame.height == 0:
        return frame
    keyed = pl.all_horizontal(pl.col(k).is_not_null() for k in keys)
    repeated = frame.select(pl.struct(list(keys)).is_duplicated() & keyed).to_series()
    if not repeated.any():
        return frame
    # Only rows whose key repeats can change: rank those few, then put their reasons back in place.
    rows = repeated.arg_true()
    ordered = frame.gather(rows).with_columns(rows.alias(_ORDER))
    clean = pl.col(R.REASON).is_null()
    sort_by = [_ORDER]
    descending = [False]
    if L.UPDATED_AT in frame.columns:
        sort_by, descending = [L.UPDATED_AT, _ORDER], [True, False]
    # Rank clean rows first so a quarantined row never wins a key.
    ranked = ordered.sort([clean.not_(), *sort_by], descending=[False, *descending], nulls_last=True)
    winner = pl.format("{}:{}", pl.col(R.SOURCE_FILE), pl.col(R.SOURCE_ROW)).first().over(list(keys))
    ranked = ranked.with_columns(winner.alias(_WINNER))
    # A quarantined row that repeats a kept key is a duplicate too (it may be a copy of a bad row).
    loser = ~pl.struct(list(keys)).is_first_distinct()
    detail = pl.format("{} repeats the key of the kept row {}", pl.lit(",".join(keys)), pl.col(_WINNER))
    marked = add_reason(ranked, loser, R.DUPLICATE_KEY, detail).sort(_ORDER)
    return frame.with_columns(
        frame.get_column(R.REASON).clone().scatter(rows, marked.get_column(R.REASON)),
        frame.get_column(R.RULE).clone().scatter(rows, marked.get_column(R.RULE)),
    )
