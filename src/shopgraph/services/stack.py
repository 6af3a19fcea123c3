"""The whole local stack: bring Neo4j, MLflow and Prefect (server and worker) up, down, and report status."""

from __future__ import annotations

import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from shopgraph.services import neo4j_server
from shopgraph.services.managed import ServiceSpec, service_status, start_service, stop_service
from shopgraph.services.mlflow_server import mlflow_server_spec
from shopgraph.services.prefect_server import ensure_work_pool, prefect_server_spec, prefect_worker_spec
from shopgraph.services.process import ServiceStatus
from shopgraph.settings import Settings

SERVICE_NAMES = ("neo4j", "mlflow", "prefect")
Report = Callable[[str], None]


def _external(name: str, url: str) -> ServiceStatus:
    return ServiceStatus(name, True, None, {"api": url}, None, managed=False, detail="external, not managed")


def _python_specs(settings: Settings, names: tuple[str, ...]) -> list[ServiceSpec]:
    specs = []
    if "mlflow" in names and settings.mlflow.managed:
        specs.append(mlflow_server_spec(settings))
    if "prefect" in names and settings.prefect.managed:
        specs.append(prefect_server_spec(settings))
    return specs


def services_up(
    settings: Settings, names: tuple[str, ...] = SERVICE_NAMES, report: Report = print
) -> list[ServiceStatus]:
    """Start the named services that are not running yet, side by side; starting twice is harmless."""
    starters: list[tuple[str, Callable[[], ServiceStatus]]] = []
    if "neo4j" in names:
        starters.append(
            (
                "neo4j (the first start installs it from Maven Central)",
                lambda: neo4j_server.start_neo4j(settings),
            )
        )
    for spec in _python_specs(settings, names):
        starters.append((spec.name, functools.partial(start_service, spec)))
    with ThreadPoolExecutor(max_workers=len(starters) or 1) as pool:
        futures = []
        for label, start in starters:
            report(f"{label}: starting")
            futures.append(pool.submit(start))
        statuses = [future.result() for future in futures]
    if "prefect" in names:
        if not settings.prefect.managed:
            statuses.append(_external("prefect-server", settings.prefect.resolved_api_url))
        if settings.prefect.start_worker or settings.prefect.deploy:
            ensure_work_pool(settings)
        if settings.prefect.deploy:
            from shopgraph.services.deployments import DeploymentError, apply_deployments

            report(f"prefect: applying deploy/prefect.yaml to pool {settings.prefect.work_pool}")
            try:
                apply_deployments(settings, report)
            except DeploymentError as exc:  # the stack still comes up; the broken flow is named
                report(f"prefect: {exc}")
        if settings.prefect.start_worker:
            report("prefect-worker: starting a worker")
            statuses.append(start_service(prefect_worker_spec(settings)))
    if "mlflow" in names and not settings.mlflow.managed:
        statuses.append(_external("mlflow-server", settings.mlflow.resolved_tracking_uri))
    return statuses


def services_down(settings: Settings, names: tuple[str, ...] = SERVICE_NAMES) -> list[str]:
    """Stop only the services this project started; returns the names it stopped."""
    stopped = []
    if "prefect" in names and stop_service(prefect_worker_spec(settings)):
        stopped.append("prefect-worker")
    for spec in reversed(_python_specs(settings, names)):
        if stop_service(spec):
            stopped.append(spec.name)
    if "neo4j" in names and settings.neo4j.managed and neo4j_server.stop_neo4j(settings):
        stopped.append("neo4j")
    return stopped


def services_status(settings: Settings) -> list[ServiceStatus]:
    """What runs, with pid, URLs and log files."""
    statuses = [neo4j_server.neo4j_status(settings)]
    statuses += [service_status(spec) for spec in _python_specs(settings, SERVICE_NAMES)]
    if settings.prefect.start_worker:
        statuses.append(service_status(prefect_worker_spec(settings)))
    if not settings.mlflow.managed:
        statuses.append(_external("mlflow-server", settings.mlflow.resolved_tracking_uri))
    if not settings.prefect.managed:
        statuses.append(_external("prefect-server", settings.prefect.resolved_api_url))
    return statuses
