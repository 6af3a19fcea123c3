"""kgat: implicit-feedback files (`user item item ...` per line, train.txt/test.txt), keeping their split."""

from __future__ import annotations

from datetime import date

import fsspec
import polars as pl

from shopgraph.importers.common import (
    DT,
    ImportOptions,
    ImportResult,
    decode_text,
    default_snapshot_day,
    landing_frame,
    namespace_from_name,
    placeholder_titles,
    product_rows,
    read_source_bytes,
    source_lines,
    timeless_fact_time,
    user_rows,
)
from shopgraph.importers.report import ImportFormatError, ImportReport
from shopgraph.schemas import landing as L

FORMAT = "kgat"
# Split files in the order their events are stamped: train the day after the snapshot, then valid, then
# test, so that a time-ordered split downstream reproduces the given one.
SPLIT_FILES: dict[str, str] = {"train": "train.txt", "valid": "valid.txt", "test": "test.txt"}
SPLIT_DAY_OFFSETS: dict[str, int] = {"train": 1, "valid": 2, "test": 3}


class KgatMapping(ImportOptions):
    """kgat needs no column mapping; namespace, category_path, currency and user defaults apply."""


def parse_interaction_lines(
    text: str, split: str, namespace: str, file: str, report: ImportReport
) -> pl.DataFrame:
    """One row per (line, item): event_id `<ns>:E-<split>-<line>-<position>`, session_id
    `<ns>:S-<split>-<line>` (a line is one session), user_id and product_id as `<ns>:<id>`, split.

    Lines with a token that is not a non-negative integer are dropped and reported; an item repeated
    within a line is kept once (reported); a user with no items gives no event.
    """
    event_ids: list[str] = []
    sessions: list[str] = []
    users: list[str] = []
    items: list[str] = []
    for number, line in enumerate(source_lines(text), start=1):
        tokens = line.split()
        if not tokens:
            continue
        bad = next((token for token in tokens if not token.isdigit()), None)
        if bad is not None:
            report.drop(
                L.EVENTS, "non-integer id", file, number, f"token {bad!r}; a line is `user item item ...`"
            )
            continue
        user, seen = tokens[0], set()
        for position, item in enumerate(tokens[1:], start=1):
            if item in seen:
                report.drop(L.EVENTS, "repeated item", file, number, f"item {item} appears twice on the line")
                continue
            seen.add(item)
            event_ids.append(f"{namespace}:E-{split}-{number:07d}-{position:04d}")
            sessions.append(f"{namespace}:S-{split}-{number:07d}")
            users.append(f"{namespace}:{int(user)}")
            items.append(f"{namespace}:{int(item)}")
    return pl.DataFrame(
        {
            L.EVENT_ID: event_ids,
            L.SESSION_ID: sessions,
            L.USER_ID: users,
            L.PRODUCT_ID: items,
            L.SPLIT: [split] * len(event_ids),
        },
        schema={
            L.EVENT_ID: pl.String,
            L.SESSION_ID: pl.String,
            L.USER_ID: pl.String,
            L.PRODUCT_ID: pl.String,
            L.SPLIT: pl.String,
        },
    )


def map_kgat(
    interactions: pl.DataFrame, mapping: KgatMapping, snapshot_day: date, report: ImportReport
) -> dict[str, pl.DataFrame]:
    """products, users, events (event_type `view`, ts midnight UTC 1/2/3 days after the snapshot for
    train/valid/test) and interaction_splits from the parsed lines (event_id, session_id, user_id,
    product_id, split)."""
    times = {split: timeless_fact_time(snapshot_day, offset) for split, offset in SPLIT_DAY_OFFSETS.items()}
    stamped = interactions.with_columns(
        pl.col(L.SPLIT).replace_strict(times, return_dtype=L.TIMESTAMP).alias(L.TS),
        pl.lit(L.VIEW).alias(L.EVENT_TYPE),
    ).with_columns(pl.col(L.TS).dt.date().alias(DT))
    products = (
        stamped.select(L.PRODUCT_ID)
        .unique()
        .sort(L.PRODUCT_ID)
        .with_columns(
            placeholder_titles(pl.col(L.PRODUCT_ID).str.splitn(":", 2).struct.field("field_1")).alias(
                L.TITLE
            ),
            pl.lit(mapping.category_path).alias(L.CATEGORY_PATH),
        )
    )
    users = stamped.select(L.USER_ID).unique().sort(L.USER_ID)
    report.note("events: implicit feedback, event_type `view`; one session per line of a split file")
    report.note(", ".join(f"{split} events at {time.isoformat()}" for split, time in times.items()))
    report.note(
        f"products: title `item <id>`, category_path {mapping.category_path!r}, price null (ids only)"
    )
    return {
        L.PRODUCTS: product_rows(products, snapshot_day, mapping.currency),
        L.USERS: user_rows(users, snapshot_day, mapping.users),
        L.EVENTS: landing_frame(stamped, L.EVENTS),
        L.INTERACTION_SPLITS: landing_frame(stamped, L.INTERACTION_SPLITS),
    }


def import_kgat(path: str, mapping: KgatMapping, namespace: str | None, day: date | None) -> ImportResult:
    """Read train.txt / valid.txt / test.txt from a folder and map them, keeping each line's split."""
    fs, target = fsspec.core.url_to_fs(path)
    if not fs.isdir(target):
        raise ImportFormatError(path, "kgat folder", "give the folder holding train.txt and test.txt")
    folder = path.rstrip("/")
    namespace = namespace or mapping.namespace or namespace_from_name(folder.rsplit("/", 1)[-1])
    report = ImportReport(FORMAT, namespace, path)
    parts = []
    for split, name in SPLIT_FILES.items():
        file = f"{folder}/{name}"
        if not fs.exists(f"{target.rstrip('/')}/{name}"):
            if split != "valid":
                raise ImportFormatError(file, "kgat split file", f"{name} is missing")
            continue
        parts.append(
            parse_interaction_lines(
                decode_text(read_source_bytes(file), file), split, namespace, file, report
            )
        )
    snapshot_day = default_snapshot_day([], day)
    tables = map_kgat(pl.concat(parts), mapping, snapshot_day, report)
    return ImportResult(tables, report, snapshot_day)
