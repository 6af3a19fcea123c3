"""The local Prefect server (SQLite) with its UI, and a process worker for deployments."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from shopgraph.services.managed import HOST, ServiceSpec
from shopgraph.services.process import ServiceError
from shopgraph.settings import Settings

BIN_DIR = Path(sys.executable).parent


def prefect_env(settings: Settings) -> dict[str, str]:
    """Environment that points Prefect clients and the server at our home and API URL."""
    home = settings.home / "prefect"
    return {
        "PREFECT_HOME": str(home),
        "PREFECT_API_URL": settings.prefect.resolved_api_url,
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home / 'prefect.db'}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_API_URL": settings.prefect.resolved_api_url,
        "PREFECT_LOGGING_LEVEL": "INFO",
    }


def prefect_server_spec(settings: Settings) -> ServiceSpec:
    port = settings.prefect.port
    return ServiceSpec(
        name="prefect-server",
        # `prefect server start`, on Prefect's app wrapped to replay SQLite-locked writes (prefect_api.py).
        argv=[sys.executable, "-m", "shopgraph.services.prefect_api", "--host", HOST, "--port", str(port)],
        run_dir=settings.run_dir,
        log_path=settings.logs_dir / "prefect-server.log",
        port=port,
        health_url=f"http://{HOST}:{port}/api/health",
        urls={"ui": settings.prefect.ui_url, "api": settings.prefect.resolved_api_url},
        env=prefect_env(settings),
        start_timeout_s=180,
        port_setting="SHOPGRAPH_PREFECT__PORT",
    )


def prefect_worker_spec(settings: Settings) -> ServiceSpec:
    return ServiceSpec(
        name="prefect-worker",
        argv=[
            str(BIN_DIR / "prefect"),
            "worker",
            "start",
            "--pool",
            settings.prefect.work_pool,
            "--type",
            "process",
        ],
        run_dir=settings.run_dir,
        log_path=settings.logs_dir / "prefect-worker.log",
        urls={"pool": f"{settings.prefect.ui_url}/work-pools/work-pool/{settings.prefect.work_pool}"},
        env=prefect_env(settings),
        cwd=Path(__file__).resolve().parents[3],
    )


def ensure_work_pool(settings: Settings) -> None:
    """Create the process work pool if it does not exist yet (idempotent)."""
    pool = settings.prefect.work_pool
    env = {**os.environ, **prefect_env(settings)}
    inspect = subprocess.run(
        [str(BIN_DIR / "prefect"), "work-pool", "inspect", pool], env=env, capture_output=True, text=True
    )
    if inspect.returncode == 0:
        return
    created = subprocess.run(
        [str(BIN_DIR / "prefect"), "work-pool", "create", pool, "--type", "process"],
        env=env,
        capture_output=True,
        text=True,
    )
    if created.returncode != 0:
        raise ServiceError(f"could not create Prefect work pool {pool!r}: {created.stderr.strip()[-500:]}")
