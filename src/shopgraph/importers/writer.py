"""Write an import's landing frames into the lake atomically, as namespace-named parts per partition."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from shopgraph.adapters.lake import (
    filesystem,
    lake_path,
    landing_files,
    landing_partition,
    write_parquet,
    write_text,
)
from shopgraph.errors import ShopgraphError
from shopgraph.importers.common import DT, ImportResult
from shopgraph.schemas import landing as L

PART_ROWS = 250_000
REPORTS = "import_reports"

# Row order inside a file, so the same rows always give the same bytes (events by time, as the contract says).
SORT_COLUMNS: dict[str, tuple[str, ...]] = {
    L.EVENTS: (L.TS, L.EVENT_ID),
    L.REVIEWS: (L.TS, L.REVIEW_ID),
    L.SEARCH_JUDGMENTS: (L.QUERY_ID, L.PRODUCT_ID),
}


@dataclass
class WrittenImport:
    """Files written per table, stale files of an earlier import removed, and the report's path."""

    files: dict[str, list[str]] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    report_path: str = ""


def import_part_name(namespace: str, index: int) -> str:
    """part-<namespace>-NNNNN.parquet: never clashes with the generator's part-NNNNN.parquet."""
    return f"part-{namespace}-{index:05d}.parquet"


def owns_file(namespace: str, path: str) -> bool:
    """Whether a landing file was written by an import under this namespace."""
    name = path.rsplit("/", 1)[-1]
    return re.fullmatch(rf"part-{re.escape(namespace)}-\d{{5}}\.parquet", name) is not None


def partition_frames(frame: pl.DataFrame, table: str) -> list[tuple[date, pl.DataFrame]]:
    """(day, rows without dt) per partition day, in day order, rows sorted by the table's order."""
    order = list(SORT_COLUMNS.get(table, L.LANDING_KEYS[table]))
    parts = []
    for (day,), rows in frame.sort(DT).partition_by(DT, as_dict=True, maintain_order=True).items():
        parts.append((day, rows.drop(DT).sort(order)))
    return parts


def check_keys(frame: pl.DataFrame, table: str, namespace: str) -> None:
    """Fail before writing when a frame breaks the contract: its schema, or null or repeated keys in a day."""
    L.check_schema(frame.drop(DT), table, f"import {namespace} -> {table}")
    keys = [*L.LANDING_KEYS[table], DT]
    if frame.select(keys).null_count().sum_horizontal().item() or frame.select(keys).is_duplicated().any():
        raise ShopgraphError(
            f"import {namespace} -> {table}: null or repeated keys {keys[:-1]} in a partition"
        )


def write_import(lake: str, result: ImportResult) -> WrittenImport:
    """Write every frame of an import as landing/<table>/dt=.../part-<namespace>-NNNNN.parquet.

    Each file is written aside and renamed; afterwards files of an earlier import under the same namespace
    that this one did not rewrite are removed, so a rerun replaces the import and never duplicates it.
    The full report (every unmapped row) is written to <lake>/import_reports/<namespace>.json.
    """
    namespace = result.report.namespace
    written = WrittenImport()
    for table, frame in result.tables.items():
        check_keys(frame, table, namespace)
        paths: list[str] = []
        for day, rows in partition_frames(frame, table):
            folder = landing_partition(lake, table, day)
            for index, start in enumerate(range(0, rows.height, PART_ROWS)):
                path = lake_path(folder, import_part_name(namespace, index))
                paths.append(write_parquet(rows.slice(start, PART_ROWS), path))
        written.files[table] = paths
        keep = set(paths)
        for path in landing_files(lake, table):
            if owns_file(namespace, path) and path not in keep:
                remove_file(path)
                written.removed.append(path)
        result.report.rows[table] = frame.height
        result.report.files[table] = len(paths)
    written.report_path = write_text(
        lake_path(lake, REPORTS, f"{namespace}.json"),
        json.dumps(result.report.as_dict(), indent=1, ensure_ascii=False) + "\n",
    )
    return written


def remove_file(path: str) -> None:
    """Delete one file, and its partition folder when that is left empty."""
    fs, target = filesystem(path)
    fs.rm(target)
    folder = target.rsplit("/", 1)[0]
    if fs.exists(folder) and not fs.ls(folder):
        fs.rmdir(folder)
