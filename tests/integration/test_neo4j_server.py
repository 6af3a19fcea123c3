"""The real Neo4j that shopgraph installs from Maven Central: start, Cypher, Browser, heap, restart."""

from __future__ import annotations

import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from neo4j import GraphDatabase

from shopgraph.services.neo4j_server import neo4j_password, neo4j_status, start_neo4j, stop_neo4j
from shopgraph.services.process import ServiceError, ServiceStatus, port_is_open
from shopgraph.settings import Settings, load_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Away from the defaults (7687/7474) and the session test server (27687/27474).
BOLT_PORT = 17687
HTTP_PORT = 17474
# Not the 1g default, so the measured heap proves the setting reached the JVM.
HEAP_SIZE = "768m"
# Which Neo4j to install and where the conf files are may stay the developer's choice.
KEPT_ENV = {"SHOPGRAPH_NEO4J__VERSION", "SHOPGRAPH_CONF_DIR"}


def _settings(home: Path, **neo4j: object) -> Settings:
    values: dict[str, object] = {
        "uri": f"bolt://127.0.0.1:{BOLT_PORT}",
        "bolt_port": BOLT_PORT,
        "http_port": HTTP_PORT,
        "heap_size": HEAP_SIZE,
        "managed": True,
    }
    return load_settings(home=home, neo4j={**values, **neo4j})


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    with pytest.MonkeyPatch.context() as env:
        # A developer's SHOPGRAPH_* variables (an external URI, a password) would win over the overrides.
        for key in list(os.environ):
            if key.upper().startswith("SHOPGRAPH_") and key.upper() not in KEPT_ENV:
                env.delenv(key)
        settings = _settings(tmp_path_factory.mktemp("neo4j-home"))
        try:
            yield settings
        finally:
            stop_neo4j(settings)


@pytest.fixture(scope="module")
def started(settings: Settings) -> ServiceStatus:
    return start_neo4j(settings)


def _query(settings: Settings, cypher: str, **params: object) -> list[dict[str, object]]:
    auth = (settings.neo4j.user, neo4j_password(settings))
    with GraphDatabase.driver(f"bolt://127.0.0.1:{BOLT_PORT}", auth=auth) as driver:
        records = driver.execute_query(cypher, params, database_=settings.neo4j.database).records
    return [record.data() for record in records]


def test_start_answers_cypher_with_the_generated_password(settings: Settings, started: ServiceStatus) -> None:
    assert started.running and started.managed
    assert started.urls["bolt"] == f"bolt://127.0.0.1:{BOLT_PORT}"
    rows = _query(settings, "MERGE (p:Probe {id: $id}) RETURN p.id AS id", id=1)
    assert rows == [{"id": 1}]


def test_password_file_is_private_and_not_the_default(settings: Settings, started: ServiceStatus) -> None:
    password_file = settings.home / "neo4j" / "password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    password = password_file.read_text().strip()
    assert password != "neo4j"
    assert len(password) >= 24
    assert neo4j_password(settings) == password


def test_start_twice_is_a_no_op(settings: Settings, started: ServiceStatus) -> None:
    began = time.monotonic()
    again = start_neo4j(settings)
    assert time.monotonic() - began < 5
    assert again.detail == "already running"
    assert again.pid == started.pid


def test_browser_page_answers_on_http(started: ServiceStatus) -> None:
    response = httpx.get(started.urls["browser"], timeout=10)
    assert response.status_code == 200
    assert "Neo4j Browser" in response.text


def test_heap_size_comes_from_the_settings(settings: Settings, started: ServiceStatus) -> None:
    auth = (settings.neo4j.user, neo4j_password(settings))
    with GraphDatabase.driver(f"bolt://127.0.0.1:{BOLT_PORT}", auth=auth) as driver:
        records = driver.execute_query(
            "CALL dbms.queryJmx('java.lang:type=Memory') YIELD attributes RETURN attributes",
            database_="system",
        ).records
    heap = records[0]["attributes"]["HeapMemoryUsage"]["value"]["properties"]
    assert heap["max"] == 768 * 2**20


def test_wrong_password_fails_with_one_clear_line(settings: Settings, started: ServiceStatus) -> None:
    external = _settings(settings.home, managed=False, password="not-the-password")
    with pytest.raises(ServiceError, match="authentication failed") as raised:
        start_neo4j(external)
    assert "\n" not in str(raised.value)
    assert "SHOPGRAPH_NEO4J__PASSWORD" in str(raised.value)


def test_a_port_taken_by_another_process_is_named(tmp_path: Path, settings: Settings) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        other = _settings(tmp_path, bolt_port=port, uri=f"bolt://127.0.0.1:{port}", http_port=HTTP_PORT + 1)
        with pytest.raises(ServiceError, match=f"port {port} is already taken"):
            start_neo4j(other)
    assert not (tmp_path / "run" / "neo4j.pid").exists()


def test_stop_is_clean_and_restart_keeps_the_graph(settings: Settings, started: ServiceStatus) -> None:
    _query(settings, "MERGE (:Probe {id: $id})", id=2)
    assert stop_neo4j(settings)
    status = neo4j_status(settings)
    assert not status.running and status.pid is None
    assert not port_is_open("127.0.0.1", BOLT_PORT)
    assert "Stopped." in (settings.logs_dir / "neo4j.log").read_text()
    assert not stop_neo4j(settings)

    restarted = start_neo4j(settings)
    assert restarted.running and restarted.pid != started.pid
    assert _query(settings, "MATCH (p:Probe) RETURN count(p) AS n") == [{"n": 2}]
    assert stop_neo4j(settings)
    assert not neo4j_status(settings).running


def test_a_password_that_starts_with_a_dash_is_set_and_accepted(tmp_path: Path, settings: Settings) -> None:
    # One generated password in 64 starts with "-"; neo4j-admin once took it for an option.
    password = '-starts with a dash, has "quotes" and a \\ backslash'
    port = BOLT_PORT + 2
    dashed = _settings(
        tmp_path, password=password, bolt_port=port, uri=f"bolt://127.0.0.1:{port}", http_port=HTTP_PORT + 2
    )
    try:
        assert start_neo4j(dashed).running
        with GraphDatabase.driver(f"bolt://127.0.0.1:{port}", auth=(dashed.neo4j.user, password)) as driver:
            records = driver.execute_query("RETURN 1 AS one", database_=dashed.neo4j.database).records
        assert records[0]["one"] == 1
    finally:
        stop_neo4j(dashed)
