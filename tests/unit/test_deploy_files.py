"""deploy/compose.yaml and the Kubernetes work-pool job template are well formed and consistent."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from shopgraph.settings import REPO_ROOT

pytestmark = pytest.mark.unit
DEPLOY = REPO_ROOT / "deploy"


def _placeholders(value: Any) -> set[str]:
    if isinstance(value, str):
        return set(re.findall(r"\{\{\s*([a-z_]+)\s*\}\}", value))
    if isinstance(value, dict):
        return set().union(*(_placeholders(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_placeholders(item) for item in value))
    return set()


def test_compose_has_the_full_stack() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert {"prefect-db", "prefect-server", "mlflow-db", "minio", "mlflow", "neo4j", "worker"} <= set(
        services
    )
    assert services["neo4j"]["image"].startswith("neo4j:5.26") and "community" in services["neo4j"]["image"]
    assert (
        "postgresql+asyncpg://"
        in services["prefect-server"]["environment"]["PREFECT_API_DATABASE_CONNECTION_URL"]
    )
    assert "s3://" in services["mlflow"]["command"] and "postgresql://" in services["mlflow"]["command"]
    worker_env = services["worker"]["environment"]
    assert worker_env["SHOPGRAPH_NEO4J__URI"] == "bolt://neo4j:7687"
    assert worker_env["SHOPGRAPH_LAKE__ROOT"].startswith("s3://")
    assert "prefect worker start --pool shopgraph-process --type process" in services["worker"]["command"]


def test_every_job_template_placeholder_is_a_declared_variable() -> None:
    template = json.loads((DEPLOY / "k8s" / "work-pool-job-template.json").read_text())
    declared = set(template["variables"]["properties"])
    used = _placeholders(template["job_configuration"])
    assert used and used <= declared, used - declared
    container = template["job_configuration"]["job_manifest"]["spec"]["template"]["spec"]["containers"][0]
    assert container["args"] == "{{ command }}" and container["image"] == "{{ image }}"
