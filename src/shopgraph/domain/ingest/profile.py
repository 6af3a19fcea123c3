"""Partition profile: exact table-level figures, added to the frame Great Expectations validates."""

from __future__ import annotations

import polars as pl

ROWS_IN = "partition_rows_in"
CURATED_ROWS = "partition_curated_rows"
BAD_ROW_SHARE = "partition_bad_row_share"
DUPLICATE_KEYS = "partition_duplicate_keys"
PROFILE_COLUMNS: tuple[str, ...] = (ROWS_IN, CURATED_ROWS, BAD_ROW_SHARE, DUPLICATE_KEYS)


def partition_profile(rows_in: int, curated: pl.DataFrame, keys: tuple[str, ...]) -> dict[str, float]:
    """rows in, curated rows, share of rows quarantined, and curated rows whose key repeats (exact)."""
    distinct = curated.select(keys).n_unique() if curated.height else 0
    return {
        ROWS_IN: float(rows_in),
        CURATED_ROWS: float(curated.height),
        BAD_ROW_SHARE: (rows_in - curated.height) / rows_in if rows_in else 0.0,
        DUPLICATE_KEYS: float(curated.height - distinct),
    }


def validation_frame(
    curated: pl.DataFrame, profile: dict[str, float], *, max_rows: int, seed: int = 0
) -> pl.DataFrame:
    """The frame the expectation suite sees: every curated row, or a seeded sample of max_rows of them,
    with the exact partition profile broadcast as constant columns (so table-level expectations stay exact
    while row-level ones look at a sample)."""
    rows = curated if curated.height <= max_rows else curated.sample(n=max_rows, seed=seed)
    return rows.with_columns(pl.lit(value, pl.Float64).alias(name) for name, value in profile.items())
