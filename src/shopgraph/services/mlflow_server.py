"""The local MLflow tracking server: SQLite backend store, local artifact root, web UI."""

from __future__ import annotations

import sys
from pathlib import Path

from shopgraph.services.managed import HOST, ServiceSpec
from shopgraph.settings import Settings

BIN_DIR = Path(sys.executable).parent


def mlflow_server_spec(settings: Settings) -> ServiceSpec:
    home = settings.home / "mlflow"
    home.mkdir(parents=True, exist_ok=True)
    port = settings.mlflow.port
    url = f"http://{HOST}:{port}"
    return ServiceSpec(
        name="mlflow-server",
        argv=[
            str(BIN_DIR / "mlflow"),
            "server",
            "--host",
            HOST,
            "--port",
            str(port),
            "--backend-store-uri",
            f"sqlite:///{home / 'mlflow.db'}",
            "--artifacts-destination",
            str(home / "artifacts"),
            "--workers",
            "1",
        ],
        run_dir=settings.run_dir,
        log_path=settings.logs_dir / "mlflow-server.log",
        port=port,
        health_url=f"{url}/health",
        urls={"ui": url},
        env={"MLFLOW_ENABLE_TELEMETRY": "false", "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"},
        cwd=home,
        start_timeout_s=120,
        port_setting="SHOPGRAPH_MLFLOW__PORT",
    )
