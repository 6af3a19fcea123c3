"""The graph flow under a real Prefect API and the `shopgraph graph` commands, against the real Neo4j."""

from __future__ import annotations

from pathlib import Path

import pytest
from graph_inputs import small_shop, wipe_graph
from typer.testing import CliRunner

from shopgraph.adapters.graph_loader import graph_counts
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.runtime import client_env
from shopgraph.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def test_graph_flow_loads_reports_and_exports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, neo4j_env: Settings, prefect_harness: None
) -> None:
    from prefect.artifacts import Artifact

    from flows.graph import GraphParams, graph

    lake = tmp_path / "lake"
    days = small_shop(str(lake), products=80, users=30, days=2)
    monkeypatch.setenv("SHOPGRAPH_LAKE__ROOT", str(lake))
    with neo4j_driver(neo4j_env) as driver:
        wipe_graph(driver)

    result = graph(GraphParams())

    assert result.days == [day.isoformat() for day in days] and result.skipped == []
    with neo4j_driver(neo4j_env) as driver:
        counts = graph_counts(driver, neo4j_env.neo4j.database)
    assert result.nodes >= counts["Product"] + counts["User"] > 0
    assert result.export_path and Path(result.export_path, "manifest.json").exists()
    artifact = Artifact.get("graph-load-report")
    assert artifact is not None and "Product" in str(artifact.data) and "TOTAL" in str(artifact.data)

    again = graph(GraphParams())
    assert again.days == [] and again.skipped == result.days
    assert again.export_digest == result.export_digest
    with neo4j_driver(neo4j_env) as driver:
        assert graph_counts(driver, neo4j_env.neo4j.database) == counts
        wipe_graph(driver)


def test_graph_commands_schema_load_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, neo4j_env: Settings
) -> None:
    from shopgraph.cli import app

    for key in client_env(neo4j_env):
        monkeypatch.delenv(key, raising=False)  # the CLI exports these; undo them after the test
    lake = tmp_path / "lake"
    days = small_shop(str(lake), products=60, users=20, days=2)
    monkeypatch.setenv("SHOPGRAPH_LAKE__ROOT", str(lake))
    with neo4j_driver(neo4j_env) as driver:
        wipe_graph(driver)
    runner = CliRunner()

    schema = runner.invoke(app, ["graph", "schema"])
    assert schema.exit_code == 0, schema.output
    assert "vector index: 16 dimensions" in schema.output
    load = runner.invoke(app, ["graph", "load", "--date", days[0].isoformat()])
    assert load.exit_code == 0, load.output
    assert "loaded 1 day(s)" in load.output and "Product" in load.output
    rest = runner.invoke(app, ["graph", "load"])
    assert rest.exit_code == 0 and "loaded 1 day(s)" in rest.output
    export = runner.invoke(app, ["graph", "export"])
    assert export.exit_code == 0 and "exports/graph/" in export.output
    bad = runner.invoke(app, ["graph", "load", "--date", "yesterday"])
    assert bad.exit_code != 0 and "--date must be YYYY-MM-DD" in bad.output
    with neo4j_driver(neo4j_env) as driver:
        wipe_graph(driver)
