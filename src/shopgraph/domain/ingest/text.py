"""Text normalisation: mojibake repair, HTML and control-character stripping, Unicode NFC, whitespace."""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from shopgraph.domain.ingest import reasons as R

# UTF-8 bytes decoded as Latin-1/cp1252 leave these pairs ('é' -> 'Ã©', nbsp -> 'Â\xa0', '–' -> 'â€“').
MOJIBAKE = r"[ÃÂâ][\x80-\xbf]|â€"
_BLOCKS = r"(?is)<(script|style)\b[^>]*>.*?</(script|style)\s*>"
_BREAKS = r"(?i)<br\s*/?>|</p\s*>|</div\s*>|</li\s*>"
# Only tag-shaped text, so that 'size < 5 > 3' survives.
_TAGS = r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>"
_ENTITIES = ["&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&apos;", "&nbsp;"]
_CHARACTERS = ["&", "<", ">", '"', "'", "'", " "]
_ANSI = r"\x1b\[[0-9;?]*[A-Za-z]"
# C0 and C1 controls except the whitespace ones (tab, newlines, vertical tab, form feed), which collapse.
_CONTROL = r"[\x00-\x08\x0e-\x1f\x7f-\x9f]"
# Text that any step could change: markup or entity starts, controls, whitespace other than single
# spaces between words, anything outside ASCII (NFC, mojibake). Other values are left as they are.
_CANDIDATE = r"[<&\x00-\x1f\x7f-\x9f]|\s\s|^\s|\s$|[^\x00-\x7f]"


def repair_mojibake(text: str) -> str:
    """Undo one round of UTF-8 read as Latin-1 or cp1252; the text unchanged when it does not round-trip."""
    for codec in ("cp1252", "latin-1"):
        try:
            return text.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
    return text


def _repair_series(values: pl.Series) -> pl.Series:
    flagged = values.str.contains(MOJIBAKE).fill_null(False)
    if not flagged.any():
        return values
    rows = flagged.arg_true()
    repaired = [repair_mojibake(text) for text in values.gather(rows).to_list()]
    # scatter works in place: copy first so the caller's series is untouched.
    return values.clone().scatter(rows, pl.Series(repaired, dtype=pl.String))


def _strip_html(text: pl.Expr) -> pl.Expr:
    text = text.str.replace_all(_BLOCKS, " ").str.replace_all(_BREAKS, " ").str.replace_all(_TAGS, "")
    return text.str.replace_many(_ENTITIES, _CHARACTERS)


def _strip_control(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(_ANSI, "").str.replace_all(_CONTROL, "")


def _collapse_whitespace(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(r"\s+", " ").str.strip_chars()


def normalise_text(frame: pl.DataFrame, columns: tuple[str, ...]) -> tuple[pl.DataFrame, dict[str, int]]:
    """Normalise the given String columns in place; returns the frame and how many values each fix changed.

    Order matters: mojibake first (its bytes look like C1 controls), then HTML, control characters,
    NFC, whitespace. A value left empty becomes null, so a required text that was only markup is caught.
    Only values that some step could change are processed.
    """
    fixes: dict[str, int] = {}
    for column in (c for c in columns if c in frame.columns):
        values = frame.get_column(column)
        candidates = values.str.contains(_CANDIDATE).fill_null(False)
        if not candidates.any():
            continue
        rows = candidates.arg_true()
        normalised = _normalise_values(values.gather(rows), fixes)
        frame = frame.with_columns(values.clone().scatter(rows, normalised).alias(column))
    return frame, {name: count for name, count in fixes.items() if count}


def _normalise_values(values: pl.Series, fixes: dict[str, int]) -> pl.Series:
    steps: list[tuple[str, Callable[[pl.Expr], pl.Expr]]] = [
        (R.FIX_HTML, _strip_html),
        (R.FIX_CONTROL, _strip_control),
        (R.FIX_UNICODE, lambda text: text.str.normalize("NFC")),
        (R.FIX_WHITESPACE, _collapse_whitespace),
    ]
    repaired = _repair_series(values)
    fixes[R.FIX_MOJIBAKE] = fixes.get(R.FIX_MOJIBAKE, 0) + _changed(values, repaired)
    current = repaired.to_frame("t")
    for name, step in steps:
        after = current.select(step(pl.col("t")).alias("t"))
        fixes[name] = fixes.get(name, 0) + _changed(current.get_column("t"), after.get_column("t"))
        current = after
    text = current.get_column("t")
    return text.set(text == "", None)  # type: ignore[arg-type]


def _changed(before: pl.Series, after: pl.Series) -> int:
    return int((before != after).fill_null(False).sum())
