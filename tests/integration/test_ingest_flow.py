"""The ingest flow under a real Prefect API on a small generated shop, clean and dirty."""

from __future__ import annotations

import hashlib
import re
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest

from shopgraph.domain.ingest import reasons as R
from shopgraph.domain.ingest.text import MOJIBAKE
from shopgraph.generate import generate_shop
from shopgraph.ingestion import layout
from shopgraph.ingestion.pipeline import IngestRunError, read_manifest
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T

pytestmark = [pytest.mark.integration, pytest.mark.slow]

START = date(2026, 1, 1)
DAYS = 3
NOW = "2026-06-01T00:00:00+00:00"
# Faults whose row must be in the quarantine with this reason code.
QUARANTINED = {
    T.FAULT_NULL_KEY: R.NULL_KEY,
    T.FAULT_DUPLICATE_KEY: R.DUPLICATE_KEY,
    T.FAULT_ORPHAN_REFERENCE: R.ORPHAN_REFERENCE,
    T.FAULT_OUT_OF_RANGE: R.OUT_OF_RANGE,
    T.FAULT_FUTURE_TIMESTAMP: R.FUTURE_TIMESTAMP,
    T.FAULT_UNKNOWN_CATEGORY: R.UNKNOWN_CATEGORY,
}
# Faults that normalisation repairs: the curated text must be free of them.
REPAIRED = {
    T.FAULT_BAD_ENCODING: MOJIBAKE,
    T.FAULT_CONTROL_CHARS: r"[\x00-\x08\x0e-\x1f\x7f-\x9f]",
    T.FAULT_HTML_MARKUP: r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>|&amp;",
}


def run_ingest(**params: object) -> list[dict[str, object]]:
    from flows.ingest import IngestParams, ingest

    return ingest(IngestParams(start=START.isoformat(), end="2026-01-03", now=NOW, **params))


def curated_snapshot(lake: Path) -> dict[str, str]:
    """sha256 of every file under curated/ and quarantine/, by relative path."""
    return {
        str(path.relative_to(lake)): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in ("curated", "quarantine")
        for path in sorted((lake / folder).rglob("*"))
        if path.is_file()
    }


def manifests(lake: Path) -> list[dict[str, object]]:
    found = []
    for table in L.LANDING_SCHEMAS:
        for offset in range(DAYS):
            manifest = read_manifest(str(lake), table, date.fromordinal(START.toordinal() + offset))
            if manifest is not None:
                found.append(manifest)
    return found


def readable_landing_rows(lake: Path) -> int:
    total = 0
    for path in (lake / "landing").rglob("*.parquet"):
        try:
            total += pq.read_metadata(path).num_rows
        except Exception:  # the corrupt file of a dirty run
            continue
    return total


@pytest.fixture()
def lake_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None) -> Path:
    lake = tmp_path / "lake"
    monkeypatch.setenv("SHOPGRAPH_LAKE__ROOT", str(lake))
    return lake


def read_artifact_markdown() -> str:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    # The newest: the harness is shared by the session, and other flows' ingests publish the key too.
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["ingest-report"])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    assert found, "no ingest-report artifact"
    return str(found[0].data)


def test_clean_shop_is_curated_whole_and_reruns_are_identical(lake_env: Path) -> None:
    generate_shop(str(lake_env), products=300, users=100, days=DAYS, start_date=START, seed=7)
    results = run_ingest()
    assert {result["status"] for result in results} <= {"ok", "absent"}
    done = manifests(lake_env)
    assert sum(m["rows"]["in"] for m in done) == readable_landing_rows(lake_env)
    assert all(m["rows"]["quarantined"] == 0 and m["rows"]["conservation"] for m in done)
    # Normalisation leaves clean text as it was: every live landing row is current with its own text.
    landing = pl.read_parquet(lake_env / "landing" / "products" / "dt=2026-01-01")
    current = pl.read_parquet(lake_env / "curated" / "products" / "current")
    day_one = landing.filter(pl.col(L.PRODUCT_ID).is_in(current[L.PRODUCT_ID].implode()))
    joined = day_one.join(current, on=L.PRODUCT_ID, suffix="_cur").filter(
        pl.col(L.UPDATED_AT) == pl.col(f"{L.UPDATED_AT}_cur")
    )
    assert joined.height > 0
    assert (joined[L.TITLE] == joined[f"{L.TITLE}_cur"]).all()
    assert (joined[L.DESCRIPTION].eq_missing(joined[f"{L.DESCRIPTION}_cur"])).all()
    assert current[L.PRODUCT_ID].is_sorted() and current[L.PRODUCT_ID].n_unique() == current.height
    assert "| products | 2026-01-01 | ok |" in read_artifact_markdown()
    assert (lake_env / "docs" / "gx" / "index.html").exists()

    before = curated_snapshot(lake_env)
    assert {result["status"] for result in run_ingest()} <= {"skipped", "absent"}
    forced = run_ingest(force=True)
    assert {result["status"] for result in forced} <= {"ok", "absent"}
    assert curated_snapshot(lake_env) == before


def test_dirty_shop_quarantines_or_fails_every_fault(lake_env: Path) -> None:
    generate_shop(str(lake_env), products=400, users=150, days=DAYS, start_date=START, seed=11, dirty=True)
    with pytest.raises(IngestRunError) as raised:
        run_ingest()
    # The corrupt events file leaves its partition unreadable or partial; every failure names its rule.
    for message in str(raised.value).split(" | "):
        assert re.search(r"ingest \w+ dt=2026-01-0\d failed \w+", message), message

    faults = pl.read_parquet(lake_env / "truth" / "faults.parquet")
    done = {(m["table"], m["dt"]): m for m in manifests(lake_env)}
    for m in done.values():
        assert m["rows"]["in"] == m["rows"]["curated"] + m["rows"]["quarantined"]
    quarantine = pl.concat(
        [
            pl.read_parquet(p).select(R.SOURCE_FILE, R.SOURCE_ROW, R.REASON)
            for p in (lake_env / "quarantine").rglob("part-*.parquet")
        ]
    )
    seen = set()
    for fault in faults.iter_rows(named=True):
        kind, table, day = fault[T.KIND], fault[T.TABLE], fault[T.DT].isoformat()
        seen.add(kind)
        assert (table, day) in done, f"{table} dt={day} was not ingested"
        if kind in QUARANTINED:
            row = quarantine.filter(
                (pl.col(R.SOURCE_FILE) == fault[T.FILE]) & (pl.col(R.SOURCE_ROW) == fault[T.ROW])
            )
            assert row.height == 1, fault
            assert QUARANTINED[kind] in row[R.REASON][0].split(";"), (fault, row[R.REASON][0])
        elif kind in REPAIRED:
            landed = pl.read_parquet(lake_env / fault[T.FILE])[fault[T.ROW]]
            key = L.LANDING_KEYS[table][0]
            folder = layout.curated_partition(str(lake_env), table, fault[T.DT])
            curated = pl.read_parquet(folder).filter(pl.col(key) == landed[key][0])
            if curated.height:  # else quarantined for another reason (e.g. an orphan it references)
                assert not re.search(REPAIRED[kind], curated[fault[T.COLUMN]][0]), fault
        elif kind == T.FAULT_TYPE_DRIFT:
            assert done[(table, day)]["casts"] == {L.PRICE: "String->Float64"}
        elif kind == T.FAULT_CORRUPT_FILE:
            name = Path(fault[T.FILE]).name
            assert (lake_env / "quarantine" / table / f"dt={day}" / "files" / f"{name}.corrupt").exists()
            assert [u["file"] for u in done[(table, day)]["unreadable_files"]] == [fault[T.FILE]]
        else:
            pytest.fail(f"fault kind {kind} has no expected outcome")
    assert seen == set(T.FAULT_KINDS)

    before = curated_snapshot(lake_env)
    with pytest.raises(IngestRunError):
        run_ingest(force=True)
    assert curated_snapshot(lake_env) == before
