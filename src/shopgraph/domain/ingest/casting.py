"""Cast landing columns whose type drifted to the contract type, keeping each original value as text."""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from shopgraph.domain.ingest import reasons as R
from shopgraph.errors import ShopgraphError

RAW_PREFIX = "__raw_"
# A price or amount written as text by a spreadsheet: "24.99", "24,99", "€24.99", "EUR 24.99".
_CURRENCY_PREFIX = r"^\s*(?:€|EUR|eur)\s*"
_DECIMAL_COMMA = r"^(-?\d+),(\d+)$"
_TRUE = ("true", "t", "yes", "1")
_FALSE = ("false", "f", "no", "0")


class IncompatibleTypeError(ShopgraphError, ValueError):
    """A column's type cannot be cast to the contract type value by value."""


@dataclass
class CastPlan:
    """What casting did: per drifted column 'From->To', and the checks that flag values that did not cast."""

    casts: dict[str, str] = field(default_factory=dict)
    checks: dict[str, tuple[str, pl.Expr, pl.Expr]] = field(default_factory=dict)


def raw_column(column: str) -> str:
    """The name of the working column that keeps a drifted column's original values as text."""
    return RAW_PREFIX + column


def _decode_utf8(value: bytes | None) -> str | None:
    if value is None:
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _show_bytes(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", "backslashreplace")


def _from_text(column: str, target: pl.DataType) -> pl.Expr:
    text = pl.col(column).str.strip_chars()
    if target == pl.Float64() or target == pl.Float32():
        number = text.str.replace(_CURRENCY_PREFIX, "").str.replace(_DECIMAL_COMMA, r"${1}.${2}")
        return number.cast(target, strict=False)
    if target.is_integer():
        return text.cast(target, strict=False)
    if target == pl.Boolean():
        lower = text.str.to_lowercase()
        return pl.when(lower.is_in(_TRUE)).then(True).when(lower.is_in(_FALSE)).then(False).otherwise(None)
    if isinstance(target, pl.Datetime) and target.time_zone is not None:
        parsed = text.str.to_datetime(time_unit=target.time_unit, time_zone=target.time_zone, strict=False)
        return parsed.cast(target)
    raise IncompatibleTypeError(f"no cast from String to {target}")


def _cast_expr(column: str, source: pl.DataType, target: pl.DataType) -> pl.Expr:
    if source == pl.Null():
        return pl.col(column).cast(target)
    if source == pl.String():
        return _from_text(column, target)
    if source == pl.Binary() and target == pl.String():
        return pl.col(column).map_elements(_decode_utf8, return_dtype=pl.String)
    if source.is_numeric() and target.is_numeric():
        value = pl.col(column)
        if source.is_float() and target.is_integer():
            # Only whole numbers are the same value as an integer.
            value = pl.when(value == value.floor()).then(value).otherwise(None)
        return value.cast(target, strict=False)
    if isinstance(source, pl.Datetime) and isinstance(target, pl.Datetime):
        if source.time_zone is None or target.time_zone is None:
            raise IncompatibleTypeError("a timestamp without a time zone is ambiguous")
        return pl.col(column).dt.convert_time_zone(target.time_zone).cast(target)
    raise IncompatibleTypeError(f"no cast from {source} to {target}")


def _raw_expr(column: str, source: pl.DataType) -> pl.Expr:
    if source == pl.Binary():
        return pl.col(column).map_elements(_show_bytes, return_dtype=pl.String)
    return pl.col(column).cast(pl.String)


def plan_casts(schema: pl.Schema, contract: pl.Schema, *, source: str) -> CastPlan:
    """The casts that bring a frame with `schema` to `contract`; IncompatibleTypeError naming source,
    column and types when a column cannot be cast value by value (e.g. a list written as text)."""
    plan = CastPlan()
    for column, target in contract.items():
        actual = schema.get(column)
        if actual is None or actual == target:
            continue
        try:
            _cast_expr(column, actual, target)
        except IncompatibleTypeError as exc:
            raise IncompatibleTypeError(
                f"{source}: column {column!r} is {actual}, expected {target}: {exc} "
                "(rule: expect_column_values_to_be_of_type)"
            ) from exc
        plan.casts[column] = f"{actual}->{target}"
        raw = pl.col(raw_column(column))
        reason = R.INVALID_UTF8 if actual == pl.Binary() else R.CAST_FAILED
        detail = pl.format("{}: {} is not {}", pl.lit(column), raw.str.slice(0, 60), pl.lit(str(target)))
        plan.checks[column] = (reason, raw.is_not_null() & pl.col(column).is_null(), detail)
    return plan


def apply_casts(frame: pl.DataFrame, contract: pl.Schema, plan: CastPlan) -> pl.DataFrame:
    """Cast the drifted columns of a frame (plan.casts) to the contract; each keeps its original values
    as text in __raw_<column> for the quarantine."""
    if not plan.casts:
        return frame
    schema = frame.schema
    raws = [_raw_expr(column, schema[column]).alias(raw_column(column)) for column in plan.casts]
    casts = [_cast_expr(column, schema[column], contract[column]).alias(column) for column in plan.casts]
    return frame.with_columns(raws).with_columns(casts)
