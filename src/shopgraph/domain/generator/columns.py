"""Column builders shared by the generator: vocabulary names, day dates and masked values as polars Series."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import polars as pl

NONE = -1
NEVER = np.iinfo(np.int32).max


def vocabulary_names(
    values: np.ndarray, names: Sequence[str], present: np.ndarray | None = None
) -> pl.Series:
    """The names of vocabulary indices; null where an index is NONE or present is False."""
    series = pl.Series(np.asarray(values, dtype=np.int64)).replace_strict(
        list(range(len(names))), list(names), default=None, return_dtype=pl.String
    )
    return masked(series, present)


def day_dates(days: np.ndarray, start_date: date) -> pl.Series:
    """Calendar dates of day indices counted from start_date; null where the day is NEVER."""
    epoch = (start_date - date(1970, 1, 1)).days
    days = np.asarray(days, dtype=np.int64)
    series = pl.Series(np.where(days == NEVER, 0, days + epoch), dtype=pl.Int32).cast(pl.Date)
    return masked(series, days != NEVER)


def masked(series: pl.Series, present: np.ndarray | None) -> pl.Series:
    """The series with nulls where present is False (unchanged when present is None)."""
    if present is None:
        return series
    missing = np.flatnonzero(~np.asarray(present, dtype=bool))
    return series.scatter(missing, None) if missing.size else series
