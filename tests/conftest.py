"""Shared fixtures: a real Neo4j started for the test session, a Prefect test harness, an MLflow store."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopgraph.settings import REPO_ROOT, Settings, load_settings

# Overridable so that two checkouts on one machine can test side by side.
TEST_HOME = Path(os.environ.get("SHOPGRAPH_TEST_HOME", REPO_ROOT / ".local" / "test-stack"))
TEST_BOLT_PORT = int(os.environ.get("SHOPGRAPH_TEST_NEO4J_BOLT_PORT", "27687"))
TEST_HTTP_PORT = int(os.environ.get("SHOPGRAPH_TEST_NEO4J_HTTP_PORT", "27474"))


@pytest.fixture(scope="session")
def neo4j_settings() -> Iterator[Settings]:
    """Settings for a real Neo4j: an external one from SHOPGRAPH_TEST_NEO4J_URI, else one started here."""
    from shopgraph.services.neo4j_server import start_neo4j, stop_neo4j

    external = os.environ.get("SHOPGRAPH_TEST_NEO4J_URI")
    if external:
        yield load_settings(
            home=TEST_HOME,
            neo4j={
                "uri": external,
                "managed": False,
                "password": os.environ["SHOPGRAPH_TEST_NEO4J_PASSWORD"],
            },
        )
        return
    settings = load_settings(
        home=TEST_HOME,
        neo4j={
            "uri": f"bolt://127.0.0.1:{TEST_BOLT_PORT}",
            "bolt_port": TEST_BOLT_PORT,
            "http_port": TEST_HTTP_PORT,
            "managed": True,
        },
    )
    status = start_neo4j(settings)
    started_here = status.detail != "already running"
    try:
        yield settings
    finally:
        if started_here:
            stop_neo4j(settings)


@pytest.fixture()
def neo4j_env(neo4j_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point code that calls load_settings() at the test Neo4j through SHOPGRAPH_* variables."""
    from shopgraph.services.neo4j_server import neo4j_password

    monkeypatch.setenv("SHOPGRAPH_HOME", str(neo4j_settings.home))
    monkeypatch.setenv("SHOPGRAPH_NEO4J__URI", neo4j_settings.neo4j.uri)
    monkeypatch.setenv("SHOPGRAPH_NEO4J__MANAGED", "false")
    monkeypatch.setenv("SHOPGRAPH_NEO4J__PASSWORD", neo4j_password(neo4j_settings))
    return neo4j_settings


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """A real, temporary Prefect API for flows under test."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture()
def mlflow_uri(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A real MLflow tracking store (SQLite) in a temporary folder."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("SHOPGRAPH_MLFLOW__TRACKING_URI", uri)
    return uri
