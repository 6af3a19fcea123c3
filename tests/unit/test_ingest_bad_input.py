"""Bad landing input through the whole partition pipeline on a temporary lake: a quarantined row with its
reason, or a clear failure naming table, partition, file and rule; never a lost row."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from ingest_frames import DAY, NOW, events, products, users

from shopgraph.adapters.lake import lake_path, landing_partition, parquet_bytes, part_name, write_bytes
from shopgraph.domain.ingest import reasons as R
from shopgraph.ingestion import layout
from shopgraph.ingestion.pipeline import IngestError, IngestOptions, ingest_partition, read_manifest
from shopgraph.schemas import landing as L

pytestmark = pytest.mark.unit

OPTIONS = IngestOptions(docs_dir=None)


def land(root: str, table: str, frame: pl.DataFrame, part: int = 0) -> str:
    """Write a landing file of a table on DAY."""
    return write_bytes(lake_path(landing_partition(root, table, DAY), part_name(part)), parquet_bytes(frame))


def quarantine(root: str, table: str) -> pl.DataFrame:
    return pl.read_parquet(lake_path(layout.quarantine_partition(root, table, DAY), part_name(0)))


@pytest.fixture()
def lake(tmp_path: Path) -> str:
    """A lake whose products and users of DAY are already ingested."""
    root = str(tmp_path / "lake")
    land(root, L.PRODUCTS, products([{L.PRODUCT_ID: "P00000001"}, {L.PRODUCT_ID: "P00000002"}]))
    land(root, L.USERS, users([{L.USER_ID: "U00000001"}, {L.USER_ID: "U00000002"}]))
    for table in (L.PRODUCTS, L.USERS):
        ingest_partition(root, table, DAY, now=NOW, options=OPTIONS)
    return root


def test_clean_partition_is_curated_with_a_manifest(lake: str) -> None:
    land(lake, L.EVENTS, events([{}, {L.PRODUCT_ID: "P00000002"}]))
    manifest = ingest_partition(lake, L.EVENTS, DAY, now=NOW, options=OPTIONS)
    assert manifest["status"] == "ok"
    assert manifest["rows"] == {"in": 2, "curated": 2, "quarantined": 0, "conservation": True}
    assert manifest["gx"]["success"] and manifest["gx"]["evaluated"] > 5
    assert manifest["inputs"][0]["file"] == "landing/events/dt=2026-01-02/part-00000.parquet"
    assert read_manifest(lake, L.EVENTS, DAY)["status"] == "ok"
    current = pl.read_parquet(lake_path(layout.curated_current(lake, L.PRODUCTS), part_name(0)))
    assert current[L.PRODUCT_ID].to_list() == ["P00000001", "P00000002"]
    assert L.IS_DELETED not in current.columns


def test_corrupt_parquet_file_is_quarantined_whole_and_the_rest_ingested(lake: str) -> None:
    land(lake, L.EVENTS, events([{}] * 60))
    broken = parquet_bytes(events([{}]))
    path = write_bytes(
        lake_path(landing_partition(lake, L.EVENTS, DAY), part_name(1)), broken[:40] + b"noise"
    )
    manifest = ingest_partition(lake, L.EVENTS, DAY, now=NOW, options=OPTIONS)
    assert manifest["status"] == "partial"
    assert manifest["unreadable_files"][0]["file"].endswith("part-00001.parquet")
    kept = Path(layout.quarantine_partition(lake, L.EVENTS, DAY)) / "files" / "part-00001.parquet.corrupt"
    assert kept.read_bytes() == Path(path).read_bytes()
    with pytest.raises(
        IngestError, match=r"readable_parquet: landing/events/dt=2026-01-02/part-00001\.parquet"
    ):
        ingest_partition(
            lake,
            L.EVENTS,
            DAY,
            now=NOW,
            options=IngestOptions(docs_dir=None, corrupt_files="fail"),
            force=True,
        )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(L.SESSION_ID), r"missing columns \['session_id'\]"),
        (lambda f: f.with_columns(pl.lit(1).alias("coupon")), r"extra columns \['coupon'\]"),
    ],
)
def test_missing_or_extra_column_fails_naming_file_and_expectation(lake: str, change, message: str) -> None:
    land(lake, L.EVENTS, change(events([{}])))
    with pytest.raises(IngestError) as raised:
        ingest_partition(lake, L.EVENTS, DAY, now=NOW, options=OPTIONS)
    text = str(raised.value)
    assert "ingest events dt=2026-01-02 failed expect_table_columns_to_match_set" in text
    assert "landing/events/dt=2026-01-02/part-00000.parquet" in text
    assert re.search(message, text)


def test_type_drift_price_as_text_is_cast_and_recorded(lake: str, tmp_path: Path) -> None:
    root = str(tmp_path / "drift")
    rows = products([{L.PRODUCT_ID: f"P{i:08d}"} for i in range(4)])
    land(root, L.PRODUCTS, rows.with_columns(pl.Series(L.PRICE, ["24.99", "24,99", "€24.99", "n/a"])))
    manifest = ingest_partition(root, L.PRODUCTS, DAY, now=NOW, options=OPTIONS)
    assert manifest["casts"] == {L.PRICE: ["Float64", "String"][1] + "->Float64"}
    assert manifest["quarantined_by_reason"] == {R.CAST_FAILED: 1}
    bad = quarantine(root, L.PRODUCTS)
    assert bad.select(L.PRICE, R.SOURCE_ROW).rows() == [("n/a", 3)]


def test_null_and_duplicate_keys_and_orphans_are_quarantined_with_reasons(lake: str) -> None:
    frame = events([{}, {L.USER_ID: "U99999999"}, {}]).with_columns(pl.Series(L.EVENT_ID, ["E1", "E2", None]))
    land(lake, L.EVENTS, pl.concat([frame, frame.head(1)]))
    manifest = ingest_partition(lake, L.EVENTS, DAY, now=NOW, options=OPTIONS)
    assert manifest["quarantined_by_reason"] == {R.DUPLICATE_KEY: 1, R.NULL_KEY: 1, R.ORPHAN_REFERENCE: 1}
    assert sorted(quarantine(lake, L.EVENTS)[R.SOURCE_ROW].to_list()) == [1, 2, 3]
    assert manifest["rows"]["in"] == manifest["rows"]["curated"] + manifest["rows"]["quarantined"]


def test_facts_before_their_dimensions_fail_clearly(tmp_path: Path) -> None:
    root = str(tmp_path / "lake")
    land(root, L.EVENTS, events([{}]))
    with pytest.raises(IngestError, match="referential_integrity: no curated products up to 2026-01-02"):
        ingest_partition(root, L.EVENTS, DAY, now=NOW, options=OPTIONS)


def test_empty_partition_fails_naming_the_row_count_expectation(lake: str) -> None:
    land(lake, L.EVENTS, events([]))
    with pytest.raises(IngestError, match="events dt=2026-01-02 failed expect_table_row_count_to_be_between"):
        ingest_partition(lake, L.EVENTS, DAY, now=NOW, options=OPTIONS)
    manifest = read_manifest(lake, L.EVENTS, DAY)
    assert manifest is not None and manifest["status"] == "failed"


def test_bad_row_share_above_threshold_fails_and_keeps_the_quarantine(lake: str) -> None:
    land(lake, L.EVENTS, events([{L.PRICE: -1.0, L.EVENT_TYPE: "purchase"}] * 3 + [{}] * 7))
    options = IngestOptions(docs_dir=None, max_bad_row_share=0.2, bad_share_min_rows=5)
    with pytest.raises(IngestError, match=r"expect_column_max_to_be_between\(partition_bad_row_share\)"):
        ingest_partition(lake, L.EVENTS, DAY, now=NOW, options=options)
    assert quarantine(lake, L.EVENTS).height == 3
    assert not Path(layout.curated_partition(lake, L.EVENTS, DAY)).exists()


def test_unchanged_partition_is_skipped_and_force_reprocesses(lake: str) -> None:
    land(lake, L.EVENTS, events([{}]))
    first = ingest_partition(lake, L.EVENTS, DAY, now=NOW, options=OPTIONS)
    curated = Path(layout.curated_partition(lake, L.EVENTS, DAY)) / part_name(0)
    data = curated.read_bytes()
    assert ingest_partition(lake, L.EVENTS, DAY, now=NOW, options=OPTIONS)["status"] == "skipped"
    assert ingest_partition(lake, L.EVENTS, DAY, now=NOW, options=OPTIONS, force=True)["status"] == "ok"
    assert curated.read_bytes() == data
    manifest = json.loads(Path(layout.manifest_path(lake, L.EVENTS, DAY)).read_text())
    assert manifest["inputs"] == first["inputs"]
