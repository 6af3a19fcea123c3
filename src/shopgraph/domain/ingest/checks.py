"""Row checks: each yields (reason code, failing condition, detail); evaluate_checks fills reason and rule."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta

import polars as pl

from shopgraph.domain.ingest import reasons as R
from shopgraph.domain.ingest.tables import TableRules
from shopgraph.schemas import landing as L

Check = tuple[str, pl.Expr, pl.Expr]


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)


def _live(rules: TableRules) -> pl.Expr:
    if rules.change_set:
        return ~pl.col(L.IS_DELETED).fill_null(False)
    return pl.lit(True)


def _text(value: pl.Expr) -> pl.Expr:
    return value.cast(pl.String).str.slice(0, 60)


def _null_checks(rules: TableRules) -> list[Check]:
    checks: list[Check] = []
    for key in rules.keys:
        checks.append((R.NULL_KEY, pl.col(key).is_null(), pl.lit(f"{key} is null")))
    always = {L.IS_DELETED, L.UPDATED_AT} if rules.change_set else set()
    for column in rules.schema:
        if column in rules.keys or column in rules.nullable:
            continue
        missing = pl.col(column).is_null()
        if column not in always:
            missing = missing & _live(rules)
        checks.append((R.NULL_VALUE, missing, pl.lit(f"{column} is null")))
    return checks


def _value_checks(rules: TableRules, max_text_chars: int) -> list[Check]:
    checks: list[Check] = []
    for column in rules.text_columns:
        length = pl.col(column).str.len_chars()
        detail = pl.format("{} has {} characters (max {})", pl.lit(column), length, pl.lit(max_text_chars))
        checks.append((R.TEXT_TOO_LONG, length > max_text_chars, detail))
    for column, (low, high) in rules.ranges.items():
        value = pl.col(column)
        outside = pl.lit(False)
        if low is not None:
            outside = outside | (value < low)
        if high is not None:
            outside = outside | (value > high)
        detail = pl.format("{} {} not in [{}, {}]", pl.lit(column), _text(value), pl.lit(low), pl.lit(high))
        checks.append((R.OUT_OF_RANGE, outside, detail))
    for column in rules.positive:
        detail = pl.format("{} {} is not > 0", pl.lit(column), _text(pl.col(column)))
        checks.append((R.OUT_OF_RANGE, pl.col(column) <= 0, detail))
    for column, allowed in rules.categories.items():
        unknown = pl.col(column).is_not_null() & ~pl.col(column).is_in(sorted(allowed))
        detail = pl.format("{} {} is not a known value", pl.lit(column), _text(pl.col(column)))
        checks.append((R.UNKNOWN_CATEGORY, unknown, detail))
    for column, pattern in rules.patterns.items():
        bad = ~pl.col(column).str.contains(pattern)
        detail = pl.format("{} {} does not match {}", pl.lit(column), _text(pl.col(column)), pl.lit(pattern))
        checks.append((R.UNKNOWN_CATEGORY, bad, detail))
    return checks


def _event_checks(rules: TableRules) -> list[Check]:
    if rules.table != L.EVENTS:
        return []
    kind = pl.col(L.EVENT_TYPE)
    valid = kind.is_in(list(L.EVENT_TYPES))
    rating_off = valid & (pl.col(L.RATING).is_not_null() != (kind == L.RATE))
    price_off = valid & (pl.col(L.PRICE).is_not_null() != (kind == L.PURCHASE))
    return [
        (R.INCONSISTENT, rating_off, pl.format("rating set on a {} event or missing", kind)),
        (R.INCONSISTENT, price_off, pl.format("price set on a {} event or missing", kind)),
    ]


def _time_checks(rules: TableRules, day: date, now: datetime) -> list[Check]:
    start, end = _day_bounds(day)
    checks: list[Check] = []
    for column in rules.timestamps:
        value = pl.col(column)
        after_day = column in rules.in_partition or column in rules.not_after_day
        future = (value > now) | (value >= end) if after_day else value > now
        detail = pl.format(
            "{} {} is after {}",
            pl.lit(column),
            value.dt.to_string("%Y-%m-%dT%H:%M:%S"),
            pl.lit(min(now, end).isoformat() if after_day else now.isoformat()),
        )
        checks.append((R.FUTURE_TIMESTAMP, future, detail))
        if column in rules.in_partition:
            detail = pl.format(
                "{} {} is before the partition day {}",
                pl.lit(column),
                value.dt.to_string("%Y-%m-%dT%H:%M:%S"),
                pl.lit(day.isoformat()),
            )
            checks.append((R.OUTSIDE_PARTITION, value < start, detail))
    return checks


def _reference_checks(rules: TableRules, known: Mapping[str, pl.Series], day: date) -> list[Check]:
    checks: list[Check] = []
    for column, table in rules.references.items():
        if table not in known:
            raise KeyError(f"the reference check of {rules.table}.{column} needs the known {table} keys")
        orphan = pl.col(column).is_not_null() & ~pl.col(column).is_in(known[table].implode())
        detail = pl.format(
            "{} {} is not in curated {} up to {}", pl.lit(column), pl.col(column), pl.lit(table), pl.lit(day)
        )
        checks.append((R.ORPHAN_REFERENCE, orphan, detail))
    return checks


def row_checks(
    rules: TableRules,
    *,
    day: date,
    now: datetime,
    known: Mapping[str, pl.Series],
    max_text_chars: int,
) -> list[Check]:
    """Every row check of a table for partition `day`: nulls, lengths, ranges, code lists, timestamps
    (after `now` or outside the day), event field consistency and references to `known` keys by table."""
    return [
        *_null_checks(rules),
        *_value_checks(rules, max_text_chars),
        *_event_checks(rules),
        *_time_checks(rules, day, now),
        *_reference_checks(rules, known, day),
    ]


def evaluate_checks(frame: pl.DataFrame, checks: list[Check]) -> pl.DataFrame:
    """Add `reason` (distinct codes joined by ';', null when the row passed every check) and `rule`
    (the failing checks' details joined by '; ') to a frame."""
    nothing = pl.repeat(None, frame.height, dtype=pl.String, eager=True)
    if not checks or frame.height == 0:
        return frame.with_columns(nothing.alias(R.REASON), nothing.alias(R.RULE))
    failing = frame.select(pl.any_horizontal(cond.fill_null(False) for _, cond, _ in checks)).to_series()
    if not failing.any():
        return frame.with_columns(nothing.alias(R.REASON), nothing.alias(R.RULE))
    # Details are text built per row: build them only for the (few) failing rows.
    rows = failing.arg_true()
    reasons = [pl.when(cond.fill_null(False)).then(pl.lit(code)) for code, cond, _ in checks]
    details = [pl.when(cond.fill_null(False)).then(detail) for _, cond, detail in checks]
    reason = pl.concat_str(reasons, separator=R.REASON_SEPARATOR, ignore_nulls=True)
    codes = reason.str.split(R.REASON_SEPARATOR).list.unique(maintain_order=True)
    rule = pl.concat_str(details, separator=R.RULE_SEPARATOR, ignore_nulls=True)
    found = frame.gather(rows).select(codes.list.join(R.REASON_SEPARATOR).alias(R.REASON), rule.alias(R.RULE))
    return frame.with_columns(
        nothing.clone().scatter(rows, found.get_column(R.REASON)).alias(R.REASON),
        nothing.clone().scatter(rows, found.get_column(R.RULE)).alias(R.RULE),
    )


def add_reason(frame: pl.DataFrame, mask: pl.Expr, code: str, detail: pl.Expr) -> pl.DataFrame:
    """Append one reason code and its detail to the rows where mask holds (reason and rule columns)."""
    codes = pl.concat_str([pl.col(R.REASON), pl.lit(code)], separator=R.REASON_SEPARATOR, ignore_nulls=True)
    return frame.with_columns(
        pl.when(mask).then(codes).otherwise(pl.col(R.REASON)).alias(R.REASON),
        pl.when(mask)
        .then(pl.concat_str([pl.col(R.RULE), detail], separator=R.RULE_SEPARATOR, ignore_nulls=True))
        .otherwise(pl.col(R.RULE))
        .alias(R.RULE),
    )
