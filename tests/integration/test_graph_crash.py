"""Fault tests: Neo4j stops in the middle of a graph load; a rerun after the restart, or the graph flow's
retries, give the graph of a clean load."""

from __future__ import annotations

import shutil
import threading
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from graph_inputs import DIMENSION, graph_snapshot, small_shop, wipe_graph
from neo4j import GraphDatabase

from shopgraph.adapters.graph_loader import LoadOptions, load_days, read_manifest
from shopgraph.adapters.graph_schema import apply_schema
from shopgraph.adapters.graph_store import neo4j_auth, neo4j_driver
from shopgraph.services.neo4j_server import start_neo4j, stop_neo4j
from shopgraph.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DB = "neo4j"
OPTIONS = LoadOptions(batch_size=5, top_k=5)


@dataclass(frozen=True)
class CleanLoad:
    lake: str
    days: list[date]
    snapshot: tuple[list[tuple], list[tuple]]


@pytest.fixture(scope="module")
def clean_load(neo4j_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> CleanLoad:
    """A small shop and the graph a clean load of it gives (the database is left empty)."""
    if not neo4j_settings.neo4j.managed:
        pytest.skip("needs the Neo4j that the tests manage (it is stopped and started)")
    folder = tmp_path_factory.mktemp("clean")
    lake = str(folder / "lake")  # kept without graph manifests: the crash tests copy it
    days = small_shop(lake, products=200, users=60, days=3)
    loaded = str(folder / "loaded")
    shutil.copytree(lake, loaded)
    with neo4j_driver(neo4j_settings) as driver:
        wipe_graph(driver)
        apply_schema(driver, DB, DIMENSION)
        load_days(driver, DB, loaded, days, OPTIONS)
        snapshot = graph_snapshot(driver)
        wipe_graph(driver)
    return CleanLoad(lake, days, snapshot)


def test_stop_mid_load_restart_and_rerun_equals_a_clean_load(
    neo4j_settings: Settings, clean_load: CleanLoad, tmp_path: Path
) -> None:
    days, clean = clean_load.days, clean_load.snapshot
    crash_lake = str(tmp_path / "crash" / "lake")
    shutil.copytree(clean_load.lake, crash_lake)
    with neo4j_driver(neo4j_settings) as driver:
        apply_schema(driver, DB, DIMENSION)

    # Retries give up after a second, so the load fails soon after the server goes.
    crashing = GraphDatabase.driver(
        neo4j_settings.neo4j.uri, auth=neo4j_auth(neo4j_settings), max_transaction_retry_time=1.0
    )
    failure: list[BaseException] = []

    def run() -> None:
        try:
            load_days(crashing, DB, crash_lake, days, OPTIONS)
        except BaseException as exc:  # noqa: BLE001 - the failure is what this test wants
            failure.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 300
    while read_manifest(crash_lake, days[0]) is None and worker.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        stop_neo4j(neo4j_settings)
        worker.join(timeout=300)
    finally:
        crashing.close()
        start_neo4j(neo4j_settings)
    assert failure, "the load finished before Neo4j stopped; the test needs a longer load"
    assert read_manifest(crash_lake, days[-1]) is None

    with neo4j_driver(neo4j_settings) as driver:
        report = load_days(driver, DB, crash_lake, days, OPTIONS)
        assert days[0].isoformat() in report.skipped
        assert graph_snapshot(driver) == clean
        wipe_graph(driver)


def test_neo4j_restart_during_the_graph_flow_is_retried_to_a_clean_graph(
    neo4j_env: Settings,
    clean_load: CleanLoad,
    prefect_harness: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The `graph` flow through a Neo4j restart in the middle of its load: the driver's transaction
    retries and the task's retries carry the load over the outage, the flow completes, and the graph
    equals a clean load."""
    from flows.graph import GraphParams, graph

    days, clean = clean_load.days, clean_load.snapshot
    crash_lake = str(tmp_path / "crash" / "lake")
    shutil.copytree(clean_load.lake, crash_lake)
    with neo4j_driver(neo4j_env) as driver:
        apply_schema(driver, DB, DIMENSION)
    for key, value in {
        "LAKE__ROOT": crash_lake,
        "GRAPH__BATCH_SIZE": "5",
        "GRAPH__SIMILAR_TOP_K": "5",
    }.items():
        monkeypatch.setenv(f"SHOPGRAPH_{key}", value)
    restarted: list[float] = []

    def restart_mid_load() -> None:
        deadline = time.monotonic() + 300
        while read_manifest(crash_lake, days[0]) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if read_manifest(crash_lake, days[-1]) is None:  # still loading: the outage hits the load
            started = time.monotonic()
            stop_neo4j(neo4j_env)
            start_neo4j(neo4j_env)
            restarted.append(time.monotonic() - started)

    chaos = threading.Thread(target=restart_mid_load)
    chaos.start()
    try:
        result = graph(GraphParams(export=False))
    finally:
        chaos.join(timeout=300)
    assert restarted, "the load finished before Neo4j could be restarted; the test needs a longer load"
    # A retried load skips the days it had finished before the outage (their manifests are written).
    assert sorted(result.days + result.skipped) == [day.isoformat() for day in days]
    with neo4j_driver(neo4j_env) as driver:
        assert graph_snapshot(driver) == clean
        wipe_graph(driver)
