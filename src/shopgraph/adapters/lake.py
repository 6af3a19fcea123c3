"""Lake storage on any fsspec filesystem (local, s3://, memory://): paths, atomic Parquet writes, listings."""

from __future__ import annotations

import io
import uuid
from datetime import date

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs

from shopgraph.domain.dates import partition_name

LANDING = "landing"
TRUTH = "truth"
PARQUET_SUFFIX = ".parquet"

# Fixed writer settings: with the same rows, the same library versions write the same bytes.
PARQUET_OPTIONS: dict[str, object] = {
    "compression": "zstd",
    "compression_level": 3,
    "row_group_size": 131_072,
    "use_dictionary": True,
    "write_statistics": True,
    "store_schema": True,
}


def lake_path(root: str, *parts: str) -> str:
    """Join a lake root (local path or URL) with relative parts using '/'."""
    tail = "/".join(part.strip("/") for part in parts if part.strip("/"))
    head = root.rstrip("/") or "/"
    if not tail:
        return head
    return f"{head}/{tail}" if not head.endswith("/") else head + tail


def landing_partition(root: str, table: str, day: date) -> str:
    """landing/<table>/dt=YYYY-MM-DD under the root."""
    return lake_path(root, LANDING, table, partition_name(day))


def part_name(index: int) -> str:
    """The file name of the index-th part of a partition: part-00000.parquet."""
    return f"part-{index:05d}{PARQUET_SUFFIX}"


def relative_path(root: str, path: str) -> str:
    """A lake path relative to the root, e.g. landing/events/dt=2026-01-01/part-00000.parquet."""
    head = root.rstrip("/") + "/"
    if not path.startswith(head):
        raise ValueError(f"{path} is not under the lake root {root}")
    return path[len(head) :]


def filesystem(path: str) -> tuple[AbstractFileSystem, str]:
    """The fsspec filesystem for a path or URL and the path as that filesystem names it."""
    return url_to_fs(path)


def parquet_bytes(frame: pl.DataFrame) -> bytes:
    """A frame serialised as a Parquet file with the lake's fixed writer settings."""
    table = frame.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **PARQUET_OPTIONS)  # type: ignore[arg-type]
    return bytes(sink.getvalue().to_pybytes())


def write_bytes(path: str, data: bytes) -> str:
    """Write bytes to a temporary name beside path, then rename it into place; returns path.

    Readers never see a half-written file on filesystems with atomic rename (local, memory); on object
    stores the rename is a copy, but the partial object still never appears under the final name.
    """
    fs, target = filesystem(path)
    folder, _, name = target.rpartition("/")
    if folder:
        fs.makedirs(folder, exist_ok=True)
    temporary = f"{folder}/.{name}.{uuid.uuid4().hex}.tmp"
    try:
        with fs.open(temporary, "wb") as handle:
            handle.write(data)
        fs.mv(temporary, target)
    except BaseException:
        if fs.exists(temporary):
            fs.rm(temporary)
        raise
    return path


def write_parquet(frame: pl.DataFrame, path: str) -> str:
    """Write a frame as one Parquet file, atomically; returns path."""
    return write_bytes(path, parquet_bytes(frame))


def write_text(path: str, text: str) -> str:
    """Write UTF-8 text atomically; returns path."""
    return write_bytes(path, text.encode("utf-8"))


def read_bytes(path: str) -> bytes:
    """The raw bytes of a lake file."""
    fs, target = filesystem(path)
    return bytes(fs.cat_file(target))


def read_parquet(path: str) -> pl.DataFrame:
    """One Parquet file from any fsspec location as a polars frame."""
    return pl.read_parquet(io.BytesIO(read_bytes(path)))


def read_parts(files: list[str]) -> pl.DataFrame | None:
    """The part files concatenated in the given order (columns matched by name); None when there are none."""
    if not files:
        return None
    return pl.concat([read_parquet(path) for path in files], how="vertical_relaxed")


def read_parquet_schema(path: str) -> pa.Schema:
    """The Arrow schema in a Parquet file's footer, without reading its data."""
    fs, target = filesystem(path)
    with fs.open(target, "rb") as handle:
        return pq.read_schema(handle)


def _listing(root: str, pattern: str) -> list[str]:
    fs, stripped_root = filesystem(root)
    stripped_root = stripped_root.rstrip("/")
    found = fs.glob(f"{stripped_root}/{pattern}")
    # Rebuild each match from the root as the caller spelled it, so URLs keep their protocol.
    return sorted(lake_path(root, path[len(stripped_root) :]) for path in found)


def landing_partitions(root: str, table: str) -> list[str]:
    """Partition folders landing/<table>/dt=YYYY-MM-DD under the root, oldest first."""
    return _listing(root, f"{LANDING}/{table}/dt=*")


def partition_files(partition: str) -> list[str]:
    """The Parquet files of one partition folder, in part order."""
    return _listing(partition, f"*{PARQUET_SUFFIX}")


def landing_files(root: str, table: str) -> list[str]:
    """Every Parquet file of a landing table, by partition then part."""
    return _listing(root, f"{LANDING}/{table}/dt=*/*{PARQUET_SUFFIX}")


def partition_day(partition_or_file: str) -> date:
    """The date in a path's dt=YYYY-MM-DD segment."""
    for segment in partition_or_file.split("/"):
        if segment.startswith("dt="):
            return date.fromisoformat(segment[3:])
    raise ValueError(f"no dt=YYYY-MM-DD segment in {partition_or_file}")


def remove_tree(path: str) -> None:
    """Delete a folder and everything under it; nothing happens when it does not exist."""
    fs, target = filesystem(path)
    if fs.exists(target):
        fs.rm(target, recursive=True)
