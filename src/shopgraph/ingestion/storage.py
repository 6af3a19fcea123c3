"""Lake I/O of ingestion: hashed landing reads, partition folders replaced whole, reference keys."""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import date

import polars as pl
import pyarrow.parquet as pq

from shopgraph.adapters.lake import (
    filesystem,
    lake_path,
    parquet_bytes,
    part_name,
    partition_day,
    partition_files,
    read_bytes,
)
from shopgraph.domain.ingest.state import current_state


@dataclass(frozen=True)
class LandingFile:
    """One landing file as read: its bytes' digest and size, and its frame or why it could not be read."""

    path: str
    sha256: str
    size: int
    data: bytes
    error: str | None = None


def read_landing_file(path: str) -> LandingFile:
    """Read a landing file's bytes and check its Parquet footer; error says why an unreadable one is."""
    data = read_bytes(path)
    digest = hashlib.sha256(data).hexdigest()
    try:
        pq.read_metadata(io.BytesIO(data))
    except Exception as exc:  # pyarrow raises several types for a broken file
        return LandingFile(path, digest, len(data), data, f"unreadable Parquet: {exc}")
    return LandingFile(path, digest, len(data), data)


def file_digest(path: str) -> tuple[str, int]:
    """sha256 and size of a lake file."""
    data = read_bytes(path)
    return hashlib.sha256(data).hexdigest(), len(data)


def replace_folder(target: str, files: dict[str, bytes]) -> list[str]:
    """Make `target` hold exactly `files` (name -> bytes): written into a staging folder beside it, then
    swapped in by renames, so readers see the old or the new partition and never a mix. No files: the
    folder is removed. Returns the written paths."""
    fs, folder = filesystem(target)
    folder = folder.rstrip("/")
    if not files:
        if fs.exists(folder):
            fs.rm(folder, recursive=True)
        return []
    parent, _, name = folder.rpartition("/")
    staging = f"{parent}/.{name}.staging-{uuid.uuid4().hex}"
    trash = f"{parent}/.{name}.old-{uuid.uuid4().hex}"
    fs.makedirs(staging, exist_ok=True)
    try:
        for file_name, data in files.items():
            if "/" in file_name:
                fs.makedirs(f"{staging}/{file_name.rpartition('/')[0]}", exist_ok=True)
            with fs.open(f"{staging}/{file_name}", "wb") as handle:
                handle.write(data)
        if fs.exists(folder):
            fs.mv(folder, trash, recursive=True)
        fs.mv(staging, folder, recursive=True)
    finally:
        for leftover in (staging, trash):
            if fs.exists(leftover):
                fs.rm(leftover, recursive=True)
    return [lake_path(target, file_name) for file_name in sorted(files)]


def parquet_parts(frame: pl.DataFrame, part_rows: int) -> dict[str, bytes]:
    """A frame as part-00000.parquet, part-00001.parquet ... of at most part_rows rows each."""
    if frame.height == 0:
        return {part_name(0): parquet_bytes(frame)}
    return {
        part_name(index): parquet_bytes(frame.slice(start, part_rows))
        for index, start in enumerate(range(0, frame.height, part_rows))
    }


def _day_folders(folder: str, until: date) -> list[str]:
    fs, root = filesystem(folder)
    if not fs.exists(root):
        return []
    found = []
    for path in sorted(fs.glob(f"{root.rstrip('/')}/dt=*")):
        name = path.rstrip("/").rpartition("/")[2]
        if partition_day(name) <= until:
            found.append(lake_path(folder, name))
    return found


def change_files(changes_folder: str, until: date) -> list[str]:
    """The Parquet files of every change partition dt <= until."""
    return [file for day in _day_folders(changes_folder, until) for file in partition_files(day)]


def _scan(files: list[str]) -> pl.LazyFrame:
    if all("://" not in file for file in files):
        return pl.scan_parquet(files)
    return pl.concat([pl.read_parquet(io.BytesIO(read_bytes(file))).lazy() for file in files])


def known_keys(changes_folder: str, key: str, until: date) -> pl.Series | None:
    """Every key in the curated change partitions up to `until` (None when there are none)."""
    files = change_files(changes_folder, until)
    if not files:
        return None
    return _scan(files).select(pl.col(key).unique().sort()).collect().get_column(key)


def rebuild_current(changes_folder: str, key: str) -> pl.DataFrame:
    """The current state from every curated change partition (see domain.ingest.state.current_state)."""
    files = change_files(changes_folder, date.max)
    return current_state(_scan(files), key).collect(engine="streaming")
