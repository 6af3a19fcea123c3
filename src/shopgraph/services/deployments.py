"""The deployments of deploy/prefect.yaml, resolved from the settings and applied to a Prefect server."""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from shopgraph.errors import ShopgraphError
from shopgraph.settings import REPO_ROOT, Settings

DEPLOY_FILE = REPO_ROOT / "deploy" / "prefect.yaml"
_TEMPLATE = re.compile(r"\{\{\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


class DeploymentError(ShopgraphError):
    """deploy/prefect.yaml is malformed, names an unknown template value, or a deployment was refused."""


@dataclass(frozen=True)
class DeploymentSpec:
    """One entry of deploy/prefect.yaml with its templates resolved."""

    name: str
    entrypoint: str  # <file relative to the repo root>:<flow function>
    work_pool: str
    work_queue: str | None = None
    description: str = ""
    tags: list[str] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    pull_steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return REPO_ROOT / self.entrypoint.partition(":")[0]

    @property
    def present(self) -> bool:
        """Whether the entrypoint's file exists in this checkout."""
        return self.path.is_file()


def template_values(settings: Settings) -> dict[str, str]:
    """The "{{ $NAME }}" values of deploy/prefect.yaml, from the settings."""
    return {
        "SHOPGRAPH_REPO_ROOT": str(REPO_ROOT),
        "SHOPGRAPH_TIMEZONE": settings.prefect.timezone,
        "SHOPGRAPH_WORK_POOL": settings.prefect.work_pool,
    }


def _resolve(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in values:
                raise DeploymentError(f"{DEPLOY_FILE}: unknown template value {{{{ ${name} }}}}")
            return values[name]

        return _TEMPLATE.sub(replace, value)
    if isinstance(value, list):
        return [_resolve(item, values) for item in value]
    if isinstance(value, dict):
        return {key: _resolve(item, values) for key, item in value.items()}
    return value


def load_deployment_specs(settings: Settings, path: Path = DEPLOY_FILE) -> list[DeploymentSpec]:
    """Every deployment of the file, templates resolved from the settings."""
    raw = yaml.safe_load(path.read_text())
    if not isinstance(raw, dict) or not isinstance(raw.get("deployments"), list):
        raise DeploymentError(f"{path}: expected a mapping with a `deployments` list")
    resolved = _resolve(raw, template_values(settings))
    specs = []
    for entry in resolved["deployments"]:
        pool = entry.get("work_pool") or {}
        specs.append(
            DeploymentSpec(
                name=entry["name"],
                entrypoint=entry["entrypoint"],
                work_pool=pool.get("name") or settings.prefect.work_pool,
                work_queue=pool.get("work_queue_name"),
                description=entry.get("description", ""),
                tags=list(entry.get("tags") or []),
                parameters=dict(entry.get("parameters") or {}),
                schedules=list(entry.get("schedules") or []),
                pull_steps=list(entry.get("pull") or resolved.get("pull") or []),
            )
        )
    return specs


def load_flow(spec: DeploymentSpec) -> Any:
    """Import the deployment's flow object (the repo root on sys.path, as the worker has it)."""
    from prefect.flows import load_flow_from_entrypoint

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    file, _, function = spec.entrypoint.partition(":")
    return load_flow_from_entrypoint(f"{REPO_ROOT / file}:{function}")


def _schedules(spec: DeploymentSpec) -> list[Any]:
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import CronSchedule

    return [
        DeploymentScheduleCreate(
            schedule=CronSchedule(cron=entry["cron"], timezone=entry.get("timezone") or "UTC"),
            active=bool(entry.get("active", True)),
        )
        for entry in spec.schedules
    ]


def apply_deployments(
    settings: Settings, report: Callable[[str], None] = print, path: Path = DEPLOY_FILE
) -> list[str]:
    """Set the tag concurrency limits (prefect.concurrency_limits), then create or update every deployment
    whose entrypoint exists on the configured Prefect server (the work pool must exist); a missing
    entrypoint is reported and skipped. A flow that does not import or whose parameters do not validate
    does not stop the others; DeploymentError names them all at the end. Returns the applied names."""
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    applied: list[str] = []
    failed: list[str] = []
    with (
        temporary_settings({PREFECT_API_URL: settings.prefect.resolved_api_url}),
        get_client(sync_client=True) as client,
    ):
        for tag, limit in settings.prefect.concurrency_limits.items():
            client.create_concurrency_limit(tag=tag, concurrency_limit=limit)
            report(f"concurrency limit {tag}: {limit}")
        for spec in load_deployment_specs(settings, path):
            if not spec.present:
                report(f"deployment {spec.name}: skipped, {spec.path.relative_to(REPO_ROOT)} not found")
                continue
            try:
                flow = load_flow(spec)
                flow.validate_parameters(spec.parameters)
            except Exception as exc:  # noqa: BLE001 - any import or validation error of the flow's code
                failed.append(f"{spec.name} ({spec.entrypoint}): {type(exc).__name__}: {exc}")
                report(f"deployment {spec.name}: NOT applied, {failed[-1]}")
                continue
            client.create_deployment(
                flow_id=client.create_flow_from_name(flow.name),
                name=spec.name,
                entrypoint=spec.entrypoint,
                description=spec.description or flow.description,
                tags=spec.tags,
                parameters=spec.parameters,
                parameter_openapi_schema=flow.parameters.model_dump_for_openapi(),
                enforce_parameter_schema=True,
                schedules=_schedules(spec),
                work_pool_name=spec.work_pool,
                work_queue_name=spec.work_queue,
                pull_steps=spec.pull_steps,
                path=str(REPO_ROOT),
            )
            report(f"deployment {flow.name}/{spec.name}: applied to pool {spec.work_pool}")
            applied.append(f"{flow.name}/{spec.name}")
    if failed:
        raise DeploymentError("deployments not applied: " + "; ".join(failed))
    return applied
