"""Read a CSV source as text columns with row numbers, checking that the mapped columns exist."""

from __future__ import annotations

import polars as pl

from shopgraph.importers.common import ROW, decode_text, read_source_bytes
from shopgraph.importers.report import ImportFormatError


def read_csv_text(path: str, encoding: str = "utf-8", separator: str = ",") -> pl.DataFrame:
    """Every column of a CSV file as String plus `_row` (the header is row 1, so data starts at row 2)."""
    text = decode_text(read_source_bytes(path), path, encoding)
    try:
        frame = pl.read_csv(text.encode("utf-8"), infer_schema=False, separator=separator)
    except pl.exceptions.PolarsError as exc:
        raise ImportFormatError(path, "CSV syntax", str(exc).splitlines()[0]) from exc
    return frame.with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))


def require_columns(frame: pl.DataFrame, wanted: dict[str, str | None], file: str) -> None:
    """Fail naming every mapped column (role -> source column) that the file's header lacks."""
    missing = [
        f"{role} -> {column!r}" for role, column in wanted.items() if column and column not in frame.columns
    ]
    if missing:
        header = ", ".join(column for column in frame.columns if column != ROW)
        raise ImportFormatError(
            file,
            "missing column",
            f"mapped column(s) not in the header: {', '.join(missing)}; header: {header}",
            1,
        )


def blank_to_null(column: str) -> pl.Expr:
    """A text column stripped, with empty strings as null."""
    stripped = pl.col(column).str.strip_chars()
    return pl.when(stripped.str.len_chars() > 0).then(stripped).otherwise(None).alias(column)
