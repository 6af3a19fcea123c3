"""The backfill flow over three days of a tiny shop: real lake, Neo4j, MLflow and Prefect API; a re-run
changes nothing, and three nightly runs leave the same graph."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import torch
from graph_inputs import graph_snapshot, wipe_graph

from shopgraph.adapters.graph_loader import graph_counts
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.generate import generate_shop
from shopgraph.quality import has_reviews
from shopgraph.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]
DAYS = ["2026-01-01", "2026-01-02", "2026-01-03"]


@pytest.fixture()
def tiny_lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    root = str(tmp_path / "lake")
    generate_shop(root, products=40, users=15, days=3, start_date=date(2026, 1, 1), seed=7)
    monkeypatch.setenv("SHOPGRAPH_LAKE__ROOT", root)
    for key, value in {"MAX_LENGTH": "32", "BATCH_SIZE": "8", "DEVICE": "cpu", "VAL_SHARE": "0.25"}.items():
        monkeypatch.setenv(f"SHOPGRAPH_NER__{key}", value)
    monkeypatch.setenv("SHOPGRAPH_EMBEDDING__DEVICE", "cpu")
    monkeypatch.setenv("SHOPGRAPH_EMBEDDING__MAX_LENGTH", "64")
    monkeypatch.setenv("SHOPGRAPH_INGEST__DATA_DOCS", "false")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield root
    torch.set_num_threads(before)


def _flow_run_names() -> list[str]:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return [run.name for run in client.read_flow_runs(limit=200)]


def test_backfill_three_days_then_rerun_changes_nothing(
    tiny_lake: str,
    mlflow_uri: str,
    neo4j_env: Settings,
    prefect_harness: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from flows.backfill import BackfillError, BackfillParams, backfill
    from flows.ingest import IngestParams, ingest
    from flows.nightly import NightlyParams
    from flows.nightly import nightly as nightly_flow
    from flows.train_ner import TrainNerParams, train_ner

    nightly_lake = tmp_path / "nightly-lake"  # the same landing files, for three nightly runs below
    shutil.copytree(Path(tiny_lake) / "landing", nightly_lake / "landing")
    with neo4j_driver(neo4j_env) as driver:
        wipe_graph(driver)
    # The first day was ingested before (a backfill resumed after a failure); the enrich stage needs a
    # NER champion, trained here without any epoch (the untrained head) to keep the test fast.
    ingest(IngestParams(date=DAYS[0]))
    assert train_ner(TrainNerParams(epochs=0)).promoted

    first = backfill(BackfillParams(start=date(2026, 1, 1), end=date(2026, 1, 3)))

    assert first.processed == DAYS and first.skipped == []
    assert first.days[0].ingested == []  # day one's partitions were already curated
    assert all("events" in day.ingested for day in first.days[1:])
    assert [day.graph.days for day in first.days if day.graph] == [[d] for d in DAYS]
    assert first.export_path and Path(first.export_path, "manifest.json").exists()
    assert (first.quality is not None) == has_reviews(tiny_lake)
    with neo4j_driver(neo4j_env) as driver:
        counts = graph_counts(driver, neo4j_env.neo4j.database)
        snapshot = graph_snapshot(driver, neo4j_env.neo4j.database)
    assert counts["Product"] > 0 and counts["User"] > 0

    again = backfill(BackfillParams(start=date(2026, 1, 1), end=date(2026, 1, 3)))

    assert again.processed == [] and again.skipped == DAYS
    assert all(not day.enriched and day.graph is None for day in again.days)
    assert again.export_path == first.export_path
    with neo4j_driver(neo4j_env) as driver:
        assert graph_counts(driver, neo4j_env.neo4j.database) == counts
        assert graph_snapshot(driver, neo4j_env.neo4j.database) == snapshot
    nightly = nightly_flow(NightlyParams(date=date(2026, 1, 3), retrain=False, recommend=False))
    assert nightly.date == DAYS[2] and nightly.data.skipped
    names = _flow_run_names()
    assert {"backfill-2026-01-01..2026-01-03", "nightly-2026-01-03"} <= set(names)
    assert {f"daily-{day}" for day in DAYS} <= set(names)

    if importlib.util.find_spec("flows.train") is None:
        with pytest.raises(BackfillError, match="flows/train.py does not exist"):
            backfill(BackfillParams(start=date(2026, 1, 1), end=date(2026, 1, 1), retrain=True))

    # Three nightly runs (their data stages and review quality) over the same files, one per day, leave
    # exactly the graph the backfill left.
    monkeypatch.setenv("SHOPGRAPH_LAKE__ROOT", str(nightly_lake))
    with neo4j_driver(neo4j_env) as driver:
        wipe_graph(driver)
    for day in DAYS:
        nightly_flow(NightlyParams(date=date.fromisoformat(day), retrain=False, recommend=False))
    with neo4j_driver(neo4j_env) as driver:
        assert graph_snapshot(driver, neo4j_env.neo4j.database) == snapshot
        wipe_graph(driver)


def test_backfill_params_reject_a_reversed_range() -> None:
    from flows.backfill import BackfillParams

    with pytest.raises(ValueError, match="before start"):
        BackfillParams(start=date(2026, 1, 3), end=date(2026, 1, 1))
    assert BackfillParams(start="2026-01-01", end="2026-01-02").days() == [  # type: ignore[arg-type]
        date(2026, 1, 1),
        date(2026, 1, 2),
    ]
