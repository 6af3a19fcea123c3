"""Start, stop and describe a long-running local service defined by a ServiceSpec."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from shopgraph.services.process import (
    ServiceError,
    ServiceStatus,
    died_detail,
    port_is_open,
    running_pid,
    start_detached,
    stop_service_process,
    tail_lines,
    wait_for_port,
)

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ServiceSpec:
    """How to run one service: its command, where it listens and how to tell it is ready."""

    name: str
    argv: list[str]
    run_dir: Path
    log_path: Path
    port: int | None = None
    health_url: str | None = None
    urls: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    start_timeout_s: float = 120
    port_setting: str = ""


def service_status(spec: ServiceSpec) -> ServiceStatus:
    """Whether the service we started is alive, with its URLs and log."""
    detail = died_detail(spec.name, spec.run_dir)
    pid = running_pid(spec.name, spec.run_dir)
    if pid is not None and spec.health_url and not _is_healthy(spec.health_url):
        detail = "process alive but not answering yet"
    return ServiceStatus(spec.name, pid is not None, pid, spec.urls, spec.log_path, True, detail)


def start_service(spec: ServiceSpec) -> ServiceStatus:
    """Start the service unless ours already runs; wait until its port and health URL answer."""
    if running_pid(spec.name, spec.run_dir) is not None:
        return service_status(spec)
    if spec.port is not None and port_is_open(HOST, spec.port):
        raise ServiceError(
            f"port {spec.port} is already taken by another process, so {spec.name} cannot start: "
            f"stop that process or choose another port ({spec.port_setting or 'see conf/base.yaml'})"
        )
    pid = start_detached(
        spec.name, spec.argv, run_dir=spec.run_dir, log_path=spec.log_path, env=spec.env, cwd=spec.cwd
    )
    started = time.monotonic()
    if spec.port is not None:
        wait_for_port(
            HOST, spec.port, timeout_s=spec.start_timeout_s, name=spec.name, pid=pid, log_path=spec.log_path
        )
    if spec.health_url:
        _wait_healthy(spec, pid, spec.start_timeout_s - (time.monotonic() - started))
    return service_status(spec)


def stop_service(spec: ServiceSpec) -> bool:
    """Stop the service if we started it; True when something was stopped."""
    return stop_service_process(spec.name, spec.run_dir)


def _is_healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code < 500
    except httpx.HTTPError:
        return False


def _wait_healthy(spec: ServiceSpec, pid: int, timeout_s: float) -> None:
    assert spec.health_url
    deadline = time.monotonic() + max(timeout_s, 5)
    while time.monotonic() < deadline:
        if _is_healthy(spec.health_url):
            return
        if running_pid(spec.name, spec.run_dir) is None:
            break
        time.sleep(0.5)
    raise ServiceError(
        f"{spec.name} did not become healthy at {spec.health_url}; see {spec.log_path}:\n"
        f"{tail_lines(spec.log_path)}"
    )
