"""Dirty data: realistic faults injected into landing frames, each one recorded row by row."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl

from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T

ROW_FAULT_RATE = 0.002
PARQUET_MAGIC = b"PAR1"


@dataclass(frozen=True)
class Fault:
    """One injected fault: 0-based row in the written file (None: whole file), kind, column, detail."""

    row: int | None
    kind: str
    column: str | None
    detail: str


Mutate = Callable[[Any, random.Random, date], Any]
DETAIL_CHARS = 120


def _describe(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else repr(value)


def _clip(detail: str) -> str:
    return detail if len(detail) <= DETAIL_CHARS else detail[: DETAIL_CHARS - 1] + "…"


def _null(value: Any, rnd: random.Random, day: date) -> Any:
    return None


def _mojibake(text: str, rnd: random.Random, day: date) -> str:
    # UTF-8 bytes read back as Latin-1/cp1252: 'é' becomes 'Ã©', a non-breaking space becomes 'Â '.
    if any(ord(c) > 127 for c in text):
        return text.encode("utf-8").decode("latin-1")
    spaces = [i for i, c in enumerate(text) if c == " "]
    if not spaces:
        return text + "\ufffd"
    at = rnd.choice(spaces)
    return text[:at] + "Â\xa0" + text[at + 1 :] + rnd.choice(("", " â€“ ", "â€™s"))


def _control_chars(text: str, rnd: random.Random, day: date) -> str:
    at = rnd.randrange(len(text) + 1)
    return text[:at] + rnd.choice(("\x00", "\x1b[0m", "\x07", "\x0b", "\r\n\x00")) + text[at:]


def _html(text: str, rnd: random.Random, day: date) -> str:
    wrapper = rnd.choice(
        ("<p>{}</p>", "<b>{}</b><br/>", '<div class="desc">{}</div>', "{}<script>track()</script>")
    )
    return wrapper.format(text.replace(" & ", " &amp; ").replace(". ", ".<br> ", 1))


def _negative(value: float, rnd: random.Random, day: date) -> float:
    return -abs(value) if value else -9.99


def _bad_rating(value: int, rnd: random.Random, day: date) -> int:
    return rnd.choice((7, 0, 10, -1))


def _bad_relevance(value: int, rnd: random.Random, day: date) -> int:
    return rnd.choice((5, -1, 9))


def _future(value: datetime, rnd: random.Random, day: date) -> datetime:
    # Far enough past the partition day that no clock skew explains it.
    later = datetime(day.year, day.month, day.day, tzinfo=value.tzinfo) + timedelta(
        days=rnd.randint(60, 1500)
    )
    return later + timedelta(seconds=rnd.randrange(86_400))


def _orphan(value: str, rnd: random.Random, day: date) -> str:
    # Same shape as a real key, from a number range no generated key reaches.
    return f"{value[0]}9{rnd.randrange(10**7):07d}"


def _unknown_event_type(value: str, rnd: random.Random, day: date) -> str:
    return rnd.choice(("purchse", "VIEW", "wishlist", "add-to-cart", "page_view"))


def _unknown_country(value: str, rnd: random.Random, day: date) -> str:
    return rnd.choice(("XX", "Germany", "U.K.", "de", "??"))


# table -> (kind, column, mutation); eligible rows are those where the column is not null.
ROW_FAULTS: dict[str, tuple[tuple[str, str, Mutate], ...]] = {
    L.PRODUCTS: (
        (T.FAULT_NULL_KEY, L.PRODUCT_ID, _null),
        (T.FAULT_BAD_ENCODING, L.TITLE, _mojibake),
        (T.FAULT_CONTROL_CHARS, L.DESCRIPTION, _control_chars),
        (T.FAULT_HTML_MARKUP, L.DESCRIPTION, _html),
        (T.FAULT_OUT_OF_RANGE, L.PRICE, _negative),
        (T.FAULT_FUTURE_TIMESTAMP, L.UPDATED_AT, _future),
    ),
    L.USERS: (
        (T.FAULT_NULL_KEY, L.USER_ID, _null),
        (T.FAULT_FUTURE_TIMESTAMP, L.SIGNUP_AT, _future),
        (T.FAULT_UNKNOWN_CATEGORY, L.COUNTRY, _unknown_country),
    ),
    L.EVENTS: (
        (T.FAULT_NULL_KEY, L.EVENT_ID, _null),
        (T.FAULT_ORPHAN_REFERENCE, L.USER_ID, _orphan),
        (T.FAULT_ORPHAN_REFERENCE, L.PRODUCT_ID, _orphan),
        (T.FAULT_OUT_OF_RANGE, L.RATING, _bad_rating),
        (T.FAULT_OUT_OF_RANGE, L.PRICE, _negative),
        (T.FAULT_FUTURE_TIMESTAMP, L.TS, _future),
        (T.FAULT_UNKNOWN_CATEGORY, L.EVENT_TYPE, _unknown_event_type),
    ),
    L.REVIEWS: (
        (T.FAULT_NULL_KEY, L.REVIEW_ID, _null),
        (T.FAULT_ORPHAN_REFERENCE, L.PRODUCT_ID, _orphan),
        (T.FAULT_OUT_OF_RANGE, L.RATING, _bad_rating),
        (T.FAULT_BAD_ENCODING, L.TEXT, _mojibake),
        (T.FAULT_CONTROL_CHARS, L.TEXT, _control_chars),
        (T.FAULT_HTML_MARKUP, L.TEXT, _html),
        (T.FAULT_FUTURE_TIMESTAMP, L.TS, _future),
    ),
    L.SEARCH_JUDGMENTS: (
        (T.FAULT_NULL_KEY, L.QUERY_ID, _null),
        (T.FAULT_OUT_OF_RANGE, L.RELEVANCE, _bad_relevance),
    ),
}


def inject_row_faults(
    frame: pl.DataFrame,
    table: str,
    rng: np.random.Generator,
    *,
    day: date,
    rate: float = ROW_FAULT_RATE,
    owed: Collection[tuple[str, str]] = (),
) -> tuple[pl.DataFrame, list[Fault]]:
    """Corrupt a few rows of a landing frame and add duplicate rows; returns the new frame and its faults.

    Each row gets at most one fault. Duplicates (exact copies, as from an at-least-once export) are inserted
    after their original, and every Fault.row is the row's position in the returned frame.
    Every (kind, column) in owed occurs at least once when the frame has an eligible row, so a small run
    still shows every kind of fault.
    """
    rnd = random.Random(int(rng.integers(0, 2**62)))
    n = frame.height
    taken = np.zeros(n, dtype=bool)
    faults: list[Fault] = []
    columns = {name: frame[name] for name in frame.columns}
    for kind, column, mutate in ROW_FAULTS[table]:
        eligible = np.flatnonzero(~taken & columns[column].is_not_null().to_numpy())
        count = min(int(rng.binomial(eligible.size, rate)) + ((kind, column) in owed), eligible.size)
        if count == 0:
            continue
        rows = np.sort(rng.choice(eligible, size=count, replace=False))
        taken[rows] = True
        before = columns[column].gather(rows).to_list()
        after = [mutate(value, rnd, day) for value in before]
        columns[column] = columns[column].scatter(rows, pl.Series(after, dtype=columns[column].dtype))
        faults.extend(
            Fault(int(row), kind, column, _clip(f"was {_describe(old)}"))
            for row, old in zip(rows.tolist(), before, strict=True)
        )
    frame = pl.DataFrame(columns)
    owe_duplicate = (T.FAULT_DUPLICATE_KEY, L.LANDING_KEYS[table][0]) in owed
    return _duplicate_rows(frame, table, rng, rate, owe_duplicate, taken, faults)


def _duplicate_rows(
    frame: pl.DataFrame,
    table: str,
    rng: np.random.Generator,
    rate: float,
    at_least_one: bool,
    taken: np.ndarray,
    faults: list[Fault],
) -> tuple[pl.DataFrame, list[Fault]]:
    n = frame.height
    eligible = np.flatnonzero(~taken)
    count = min(int(rng.binomial(eligible.size, rate)) + (1 if at_least_one else 0), eligible.size)
    if count == 0:
        return frame, faults
    sources = np.sort(rng.choice(eligible, size=count, replace=False))
    # Position keys: originals at i, each copy a little later (at most 50 rows after its source).
    keys = np.concatenate([np.arange(n, dtype=np.float64), sources + rng.uniform(0.5, 50.0, count)])
    order = np.argsort(keys, kind="stable")
    position = np.empty(order.size, dtype=np.int64)
    position[order] = np.arange(order.size)
    duplicated = frame[pl.Series(np.concatenate([np.arange(n), sources])[order])]
    moved = [
        Fault(int(position[f.row]) if f.row is not None else None, f.kind, f.column, f.detail) for f in faults
    ]
    key = L.LANDING_KEYS[table][0]
    moved.extend(
        Fault(int(position[n + copy]), T.FAULT_DUPLICATE_KEY, key, f"copy of row {int(position[source])}")
        for copy, source in enumerate(sources.tolist())
    )
    return duplicated, sorted(moved, key=lambda f: (f.row if f.row is not None else -1, f.kind))


def drift_price_to_text(frame: pl.DataFrame, rng: np.random.Generator) -> tuple[pl.DataFrame, Fault]:
    """The whole price column written as text, as a spreadsheet export would: '24.99', '24,99', '€24.99'."""
    rnd = random.Random(int(rng.integers(0, 2**62)))

    def as_text(value: float | None) -> str | None:
        if value is None:
            return None
        style = rnd.random()
        if style < 0.6:
            return f"{value:.2f}"
        if style < 0.85:
            return f"{value:.2f}".replace(".", ",")
        return f"€{value:.2f}"

    text = pl.Series(L.PRICE, [as_text(v) for v in frame[L.PRICE].to_list()], dtype=pl.String)
    drifted = frame.with_columns(text)
    return drifted, Fault(None, T.FAULT_TYPE_DRIFT, L.PRICE, "Float64 written as String")


def corrupt_parquet(data: bytes, rng: np.random.Generator) -> tuple[bytes, Fault]:
    """A Parquet file cut short with noise for a footer, as a crashed upload leaves it: unreadable."""
    cut = max(len(data) // 2, 8)
    noise = rng.integers(0, 256, 64, dtype=np.uint8).tobytes().replace(PARQUET_MAGIC, b"PAR0")
    return data[:cut] + noise, Fault(None, T.FAULT_CORRUPT_FILE, None, f"truncated from {len(data)} bytes")


def fault_kinds(table: str) -> frozenset[tuple[str, str]]:
    """Every (kind, column) of row-level fault that can be injected into a table, duplicates included."""
    return frozenset(
        {(kind, column) for kind, column, _ in ROW_FAULTS[table]}
        | {(T.FAULT_DUPLICATE_KEY, L.LANDING_KEYS[table][0])}
    )


def fault_frame(table: str, dt: date, file: str, faults: list[Fault]) -> pl.DataFrame:
    """Fault records (FAULTS_SCHEMA) for one landing file; file is relative to the lake root."""
    return pl.DataFrame(
        {
            T.TABLE: [table] * len(faults),
            T.DT: [dt] * len(faults),
            T.FILE: [file] * len(faults),
            T.ROW: [f.row for f in faults],
            T.KIND: [f.kind for f in faults],
            T.COLUMN: [f.column for f in faults],
            T.DETAIL: [f.detail for f in faults],
        },
        schema=T.FAULTS_SCHEMA,
    )
