"""Unit tests for the lake adapter on a local folder and on fsspec's in-memory filesystem."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import fsspec
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from shopgraph.adapters import lake
from shopgraph.adapters.lake import (
    lake_path,
    landing_files,
    landing_partition,
    landing_partitions,
    parquet_bytes,
    part_name,
    partition_day,
    partition_files,
    read_parquet,
    read_parquet_schema,
    relative_path,
    remove_tree,
    write_bytes,
    write_parquet,
)
from shopgraph.schemas import landing as L

pytestmark = pytest.mark.unit


@pytest.fixture(params=["local", "memory"])
def root(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh lake root: a temporary folder, or a unique memory:// URL removed afterwards."""
    if request.param == "local":
        yield str(tmp_path / "lake")
        return
    url = f"memory://lake-{uuid.uuid4().hex}"
    yield url
    remove_tree(url)


def _products(n: int = 3) -> pl.DataFrame:
    return pl.DataFrame(
        {
            L.PRODUCT_ID: [f"P{i:08d}" for i in range(n)],
            L.TITLE: ["Nordlicht navy wool coat", "Maison Lumière dress", None][:n],
            L.PRICE: [129.99, 59.0, None][:n],
            L.ATTRIBUTES: [[{L.ATTRIBUTE_KEY: "fit", L.ATTRIBUTE_VALUE: "slim"}], [], None][:n],
            L.UPDATED_AT: [0, 1, 2][:n],
        },
        schema={
            L.PRODUCT_ID: pl.String,
            L.TITLE: pl.String,
            L.PRICE: pl.Float64,
            L.ATTRIBUTES: L.ATTRIBUTE_PAIRS,
            L.UPDATED_AT: pl.Int64,
        },
    ).with_columns(pl.col(L.UPDATED_AT).cast(L.TIMESTAMP))


@pytest.mark.parametrize(
    ("root", "parts", "expected"),
    [
        ("/data/lake", ("landing", "events"), "/data/lake/landing/events"),
        ("/data/lake/", ("/landing/", "events/"), "/data/lake/landing/events"),
        ("s3://bucket/lake", ("truth", "faults.parquet"), "s3://bucket/lake/truth/faults.parquet"),
        ("memory://lake", ("landing",), "memory://lake/landing"),
        ("memory://lake", (), "memory://lake"),
        ("/", ("landing",), "/landing"),
    ],
)
def test_lake_path_joins_with_slashes(root: str, parts: tuple[str, ...], expected: str) -> None:
    assert lake_path(root, *parts) == expected


def test_partition_paths_and_names() -> None:
    partition = landing_partition("s3://b/lake", "events", date(2026, 1, 3))
    assert partition == "s3://b/lake/landing/events/dt=2026-01-03"
    assert part_name(12) == "part-00012.parquet"
    assert partition_day(lake_path(partition, part_name(0))) == date(2026, 1, 3)
    assert relative_path("s3://b/lake/", partition) == "landing/events/dt=2026-01-03"
    with pytest.raises(ValueError, match="not under"):
        relative_path("s3://other", partition)
    with pytest.raises(ValueError, match="dt="):
        partition_day("landing/events")


def test_parquet_round_trip_keeps_types(root: str) -> None:
    frame = _products()
    path = write_parquet(
        frame, lake_path(landing_partition(root, "products", date(2026, 1, 1)), part_name(0))
    )

    assert_frame_equal(read_parquet(path), frame)
    schema = pl.DataFrame(schema=dict(frame.schema)).schema
    assert pl.from_arrow(read_parquet_schema(path).empty_table()).schema == schema  # type: ignore[union-attr]


def test_same_frame_gives_same_bytes() -> None:
    assert parquet_bytes(_products()) == parquet_bytes(_products())
    assert parquet_bytes(_products()) != parquet_bytes(_products(2))


def test_write_leaves_no_temporary_files(root: str) -> None:
    target = lake_path(root, "truth", "manifest.json")
    write_bytes(target, b"{}")
    write_bytes(target, b'{"again": true}')

    fs, folder = fsspec.core.url_to_fs(lake_path(root, "truth"))
    assert [name.rsplit("/", 1)[-1] for name in fs.ls(folder, detail=False)] == ["manifest.json"]
    assert lake.read_bytes(target) == b'{"again": true}'


def test_failed_rename_removes_the_temporary_file(root: str, monkeypatch: pytest.MonkeyPatch) -> None:
    target = lake_path(root, "landing", "users", "dt=2026-01-01", part_name(0))
    fs, _ = fsspec.core.url_to_fs(target)

    def broken_move(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(type(fs), "mv", broken_move)
    with pytest.raises(OSError, match="disk full"):
        write_bytes(target, b"data")
    monkeypatch.undo()

    assert not fs.exists(fsspec.core.url_to_fs(target)[1])
    folder = fsspec.core.url_to_fs(lake_path(root, "landing", "users", "dt=2026-01-01"))[1]
    assert fs.ls(folder, detail=False) == []


def test_listings_are_sorted_and_keep_the_root_spelling(root: str) -> None:
    frame = _products()
    for day in (date(2026, 1, 2), date(2026, 1, 1)):
        for part in (1, 0):
            write_parquet(frame, lake_path(landing_partition(root, "products", day), part_name(part)))
    write_parquet(frame, lake_path(landing_partition(root, "events", date(2026, 1, 5)), part_name(0)))

    partitions = landing_partitions(root, "products")
    assert partitions == [
        landing_partition(root, "products", date(2026, 1, 1)),
        landing_partition(root, "products", date(2026, 1, 2)),
    ]
    assert partition_files(partitions[0]) == [lake_path(partitions[0], part_name(i)) for i in (0, 1)]
    assert len(landing_files(root, "products")) == 4
    assert landing_partitions(root, "reviews") == []
    for path in landing_files(root, "products"):
        assert read_parquet(path).height == 3


def test_remove_tree_is_quiet_when_missing(root: str) -> None:
    remove_tree(lake_path(root, "nothing", "here"))
    write_bytes(lake_path(root, "landing", "x", "a.bin"), b"1")
    remove_tree(lake_path(root, "landing"))
    assert landing_files(root, "x") == []


def test_local_partitions_are_readable_by_polars_globs(tmp_path: Path) -> None:
    root = str(tmp_path / "lake")
    write_parquet(_products(), lake_path(landing_partition(root, "products", date(2026, 1, 1)), part_name(0)))
    partition = landing_partitions(root, "products")[0]
    assert pl.scan_parquet(f"{partition}/*.parquet").select(pl.len()).collect().item() == 3
