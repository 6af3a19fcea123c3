"""The whole local stack through the CLI: up, status, up again, down, up again, on ports of its own."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from shopgraph.services.neo4j_server import neo4j_password
from shopgraph.services.process import port_is_open
from shopgraph.settings import load_settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

PORTS = {"SHOPGRAPH_NEO4J__BOLT_PORT": 37687, "SHOPGRAPH_NEO4J__HTTP_PORT": 37474}
PORTS |= {"SHOPGRAPH_MLFLOW__PORT": 35000, "SHOPGRAPH_PREFECT__PORT": 34200}
SHOPGRAPH = [sys.executable, "-m", "shopgraph.cli"]


@pytest.fixture()
def stack_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Environment for a private stack in tmp_path; whatever it left running is stopped afterwards."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SHOPGRAPH_", "PREFECT_", "MLFLOW_"))}
    env |= {key: str(port) for key, port in PORTS.items()}
    env["SHOPGRAPH_HOME"] = str(tmp_path / "home")
    env["COLUMNS"] = "250"
    try:
        yield env
    finally:
        subprocess.run([*SHOPGRAPH, "services", "down"], env=env, capture_output=True, timeout=180)


def _shopgraph(env: dict[str, str], *args: str) -> str:
    result = subprocess.run([*SHOPGRAPH, *args], env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=10) as response:
        return int(response.status)


def _pids(status_output: str) -> list[str]:
    return [word for line in status_output.splitlines() for word in line.split() if word.isdigit()]


def test_up_status_up_down_up(stack_env: dict[str, str]) -> None:
    from neo4j import GraphDatabase

    first = _shopgraph(stack_env, "services", "up")
    for name in ("neo4j", "mlflow-server", "prefect-server", "prefect-worker"):
        assert name in first
    assert "stopped" not in first

    status = _shopgraph(stack_env, "services", "status")
    assert status.count("running") == 4, status
    assert str(Path(stack_env["SHOPGRAPH_HOME"]) / "logs") in status.replace("\n", "")
    assert _get("http://127.0.0.1:34200/api/health") == 200
    assert _get("http://127.0.0.1:34200/") == 200
    assert _get("http://127.0.0.1:35000/health") == 200
    assert _get("http://127.0.0.1:37474/browser/") == 200

    settings = load_settings(home=Path(stack_env["SHOPGRAPH_HOME"]), neo4j={"bolt_port": 37687})
    password = neo4j_password(settings)
    assert password != "neo4j"
    with GraphDatabase.driver("bolt://127.0.0.1:37687", auth=("neo4j", password)) as driver:
        records, _, _ = driver.execute_query("RETURN $x + 1 AS y", x=41)
        assert records[0]["y"] == 42

    again = _shopgraph(stack_env, "services", "up")
    assert sorted(_pids(again)) == sorted(_pids(status)), "a second `up` must not restart anything"

    down = _shopgraph(stack_env, "services", "down")
    assert "neo4j" in down and "prefect-server" in down
    for port in PORTS.values():
        assert not port_is_open("127.0.0.1", port)
    assert _shopgraph(stack_env, "services", "status").count("running") == 0

    restarted = _shopgraph(stack_env, "services", "up")
    assert restarted.count("running") == 4, restarted
