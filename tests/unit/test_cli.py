"""The shopgraph command: help, version, status of a stopped stack, and one-line errors."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopgraph.cli import app

pytestmark = pytest.mark.unit
SHOPGRAPH = [sys.executable, "-m", "shopgraph.cli"]


def test_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith("shopgraph 0.")


@pytest.mark.parametrize("command", [[], ["services"], ["generate"], ["services", "up"], ["smoke"], ["demo"]])
def test_help_everywhere(command: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_status_of_a_stopped_stack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPGRAPH_HOME", str(tmp_path))
    result = CliRunner().invoke(app, ["services", "status"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for name in ("neo4j", "mlflow-server", "prefect-server", "prefect-worker"):
        assert name in result.output
    assert "running" not in result.output.replace("stopped", "")


def test_invalid_setting_is_one_clear_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "SHOPGRAPH_HOME": str(tmp_path), "SHOPGRAPH_PREFECT__PORT": "http"}
    result = subprocess.run([*SHOPGRAPH, "services", "status"], env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "SHOPGRAPH_PREFECT__PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_service_is_rejected() -> None:
    result = CliRunner().invoke(app, ["services", "up", "--only", "redis"])
    assert result.exit_code != 0
    assert "unknown service" in result.output


def test_unreachable_external_neo4j_is_one_line(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "SHOPGRAPH_HOME": str(tmp_path),
        "SHOPGRAPH_NEO4J__URI": "bolt://127.0.0.1:1",
        "SHOPGRAPH_NEO4J__PASSWORD": "x",
    }
    result = subprocess.run(
        [*SHOPGRAPH, "services", "up", "--only", "neo4j"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "unreachable" in result.stderr
    assert "Traceback" not in result.stderr


def test_train_names_unknown_models_and_missing_exports(tmp_path: Path) -> None:
    env = {**os.environ, "SHOPGRAPH_LAKE__ROOT": str(tmp_path / "lake"), "SHOPGRAPH_HOME": str(tmp_path)}
    unknown = subprocess.run(
        [*SHOPGRAPH, "train", "--model", "bogus"], capture_output=True, text=True, env=env
    )
    assert (
        unknown.returncode == 1
        and "unknown model 'bogus'" in unknown.stderr
        and "Traceback" not in unknown.stderr
    )
    missing = subprocess.run(
        [*SHOPGRAPH, "train", "--model", "ease"], capture_output=True, text=True, env=env
    )
    assert missing.returncode == 1 and "no graph export yet" in missing.stderr
