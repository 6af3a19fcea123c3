"""Shared importer pieces: ids, timestamps, source reading and frames shaped exactly like the contract."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import fsspec
import polars as pl
from pydantic import BaseModel, ConfigDict, Field

from shopgraph.importers.report import ImportFormatError, ImportReport
from shopgraph.schemas import landing as L

# Column every importer adds to its frames: the partition day; the writer turns it into dt=... folders.
DT = "dt"
# Column holding the 1-based source row (the header line is row 1) while a frame is being mapped.
ROW = "_row"

DEFAULT_CATEGORY = "Uncategorised"
# Snapshot day for sources without any timestamps when --date is not given: fixed, so reruns match.
DEFAULT_SNAPSHOT_DAY = date(2026, 1, 1)
# Offsets from the snapshot day for facts without a time of their own (products are exported on the
# snapshot day and, as in the contract, appear in facts from the next day on).
TIMELESS_FACT_OFFSET_DAYS = 1
NAMESPACE_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
HASH_HEX_DIGITS = 16


class UserDefaults(BaseModel):
    """Contract columns of users that the sources lack: filled with these documented defaults."""

    model_config = ConfigDict(extra="forbid")

    country: str = "US"
    language: str = "en"
    marketing_opt_in: bool = False


class ImportOptions(BaseModel):
    """Options every mapping file may set; format mappings extend it."""

    model_config = ConfigDict(extra="forbid")

    format: str | None = None
    namespace: str | None = None
    category_path: str = DEFAULT_CATEGORY
    currency: str = "EUR"
    users: UserDefaults = Field(default_factory=UserDefaults)


@dataclass
class ImportResult:
    """Landing frames (each with a `dt` Date column for its partition) and the report of what was lost."""

    tables: dict[str, pl.DataFrame]
    report: ImportReport
    snapshot_day: date


def check_namespace(namespace: str) -> str:
    """A namespace usable in ids and file names, or a ValueError saying what is allowed."""
    if not NAMESPACE_PATTERN.match(namespace):
        raise ValueError(
            f"namespace {namespace!r} must be lower-case letters, digits, '-' or '_' (e.g. 'ml-100k')"
        )
    return namespace


def namespace_from_name(name: str) -> str:
    """A namespace derived from a file or folder name: lower case, other characters turned into '-'."""
    cleaned = re.sub(r"[^a-z0-9_-]+", "-", name.lower()).strip("-_")
    return cleaned or "import"


def namespaced(namespace: str, column: str | pl.Expr) -> pl.Expr:
    """`<namespace>:<source id>` from a string column (null stays null)."""
    expr = pl.col(column) if isinstance(column, str) else column
    return pl.concat_str(pl.lit(f"{namespace}:"), expr.cast(pl.String))


def text_hash(*parts: str | None) -> str:
    """A stable hex digest of text parts (null and empty parts hash alike); same text, same id."""
    joined = "\x1f".join(part or "" for part in parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:HASH_HEX_DIGITS]


def hashed_ids(frame: pl.DataFrame, columns: list[str], prefix: str) -> pl.Series:
    """`<prefix><hash of the row's text in columns>` for every row of frame."""
    values = [
        prefix + text_hash(*row) for row in frame.select([pl.col(c).cast(pl.String) for c in columns]).rows()
    ]
    return pl.Series(values, dtype=pl.String)


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of a day."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def timeless_fact_time(snapshot_day: date, offset_days: int = TIMELESS_FACT_OFFSET_DAYS) -> datetime:
    """The documented time of facts without a timestamp: midnight UTC, offset_days after the snapshot."""
    return day_start(snapshot_day + timedelta(days=offset_days))


def unix_seconds_to_utc(column: str | pl.Expr) -> pl.Expr:
    """Unix seconds (integer or float) as Datetime(us, UTC); fractions of a second are kept to the us."""
    expr = pl.col(column) if isinstance(column, str) else column
    return (expr.cast(pl.Float64) * 1_000_000).round(0).cast(pl.Int64).cast(L.TIMESTAMP)


def default_snapshot_day(fact_times: list[pl.Series], given: date | None) -> date:
    """The snapshot day: the given one, else the day before the earliest fact, else a fixed day."""
    if given is not None:
        return given
    earliest = [value for series in fact_times if isinstance(value := series.min(), datetime)]
    if not earliest:
        return DEFAULT_SNAPSHOT_DAY
    return min(earliest).date() - timedelta(days=1)


def landing_frame(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """frame reduced to the table's contract columns in contract order (absent ones null) plus `dt`."""
    schema = (L.LANDING_SCHEMAS | L.IMPORTED_SCHEMAS)[table]
    columns = [
        pl.col(name).cast(dtype) if name in frame.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in schema.items()
    ]
    return frame.select(*columns, pl.col(DT).cast(pl.Date))


def empty_attributes() -> pl.Expr:
    """An empty key/value list for products whose source has no specifications."""
    return pl.lit([], L.ATTRIBUTE_PAIRS)


def product_rows(frame: pl.DataFrame, snapshot_day: date, currency: str) -> pl.DataFrame:
    """Contract products from a frame with product_id, title and any of description, brand,
    category_path, price, colour, material, size, style, attributes; the rest is filled as documented:
    is_deleted false, updated_at the snapshot midnight, currency from the mapping, no attributes."""
    filled = frame.with_columns(
        pl.lit(False).alias(L.IS_DELETED),
        pl.lit(day_start(snapshot_day)).cast(L.TIMESTAMP).alias(L.UPDATED_AT),
        pl.lit(currency).alias(L.CURRENCY),
        pl.lit(snapshot_day).alias(DT),
    )
    if L.ATTRIBUTES not in filled.columns:
        filled = filled.with_columns(empty_attributes().alias(L.ATTRIBUTES))
    return landing_frame(filled, L.PRODUCTS)


def user_rows(frame: pl.DataFrame, snapshot_day: date, defaults: UserDefaults) -> pl.DataFrame:
    """Contract users from a frame with user_id (and optionally age_band); signup_at and updated_at are
    the snapshot midnight (sources carry no signup date), country/language/opt-in come from defaults."""
    midnight = pl.lit(day_start(snapshot_day)).cast(L.TIMESTAMP)
    filled = frame.with_columns(
        midnight.alias(L.SIGNUP_AT),
        midnight.alias(L.UPDATED_AT),
        pl.lit(defaults.country).alias(L.COUNTRY),
        pl.lit(defaults.language).alias(L.LANGUAGE),
        pl.lit(defaults.marketing_opt_in).alias(L.MARKETING_OPT_IN),
        pl.lit(False).alias(L.IS_DELETED),
        pl.lit(snapshot_day).alias(DT),
    )
    return landing_frame(filled, L.USERS)


def placeholder_titles(ids: pl.Expr) -> pl.Expr:
    """The title of a product whose source has none: `item <source id>`."""
    return pl.concat_str(pl.lit("item "), ids)


def with_fact_day(frame: pl.DataFrame, time_column: str) -> pl.DataFrame:
    """frame with `dt` set to the UTC day of time_column."""
    return frame.with_columns(pl.col(time_column).dt.date().alias(DT))


def read_source_bytes(path: str) -> bytes:
    """The bytes of an input file (local path or fsspec URL), gunzipped when the name ends in .gz."""
    try:
        with fsspec.open(path, "rb", compression="infer") as handle:
            return bytes(handle.read())
    except FileNotFoundError:
        raise
    except (OSError, EOFError) as exc:
        raise ImportFormatError(path, "readable file", f"cannot read it: {exc}") from exc


def decode_text(data: bytes, file: str, encoding: str = "utf-8") -> str:
    """Bytes decoded strictly; a decoding error names the row (line) and suggests the mapping's encoding."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        row = data[: exc.start].count(b"\n") + 1
        raise ImportFormatError(
            file,
            f"{encoding} text",
            f"byte {exc.start} cannot be decoded; set `encoding:` in the mapping",
            row,
        ) from exc
    except LookupError as exc:
        raise ImportFormatError(file, "known encoding", f"unknown encoding {encoding!r}") from exc


def source_lines(text: str) -> list[str]:
    """Lines without their line ends; a final newline does not start an empty line."""
    return text.splitlines()


def drop_failing(
    frame: pl.DataFrame,
    checks: list[tuple[pl.Expr, str, pl.Expr]],
    table: str,
    file: str,
    report: ImportReport,
) -> pl.DataFrame:
    """frame without rows failing a check; each failing row is reported once, under its first failed rule."""
    remaining = frame
    for failing, rule, detail in checks:
        bad = remaining.filter(failing)
        for row, text in bad.select(ROW, detail.alias("_detail")).iter_rows():
            report.drop(table, rule, file, row, str(text))
        remaining = remaining.filter(~failing)
    return remaining


def drop_repeats(
    frame: pl.DataFrame, keys: list[str], table: str, rule: str, file: str, report: ImportReport
) -> pl.DataFrame:
    """frame keeping the first row (lowest `_row`) of each key; later ones are dropped and reported."""
    first = frame.group_by(keys).agg(pl.col(ROW).min().alias("_first"))
    frame = frame.join(first, on=keys, maintain_order="left")
    for row, first_row in frame.filter(pl.col(ROW) != pl.col("_first")).select(ROW, "_first").iter_rows():
        report.drop(table, rule, file, row, f"same key as row {first_row}")
    return frame.filter(pl.col(ROW) == pl.col("_first")).drop("_first")
