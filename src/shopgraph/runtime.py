"""Point Prefect and MLflow clients at the configured servers, at command start and never at import."""

from __future__ import annotations

import os

from shopgraph.settings import Settings


def client_env(settings: Settings) -> dict[str, str]:
    """Environment variables that Prefect and MLflow clients read."""
    env = {
        "PREFECT_API_URL": settings.prefect.resolved_api_url,
        "MLFLOW_TRACKING_URI": settings.mlflow.resolved_tracking_uri,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "MLFLOW_ENABLE_TELEMETRY": "false",
        "DO_NOT_TRACK": "true",
    }
    if settings.prefect.managed:
        env["PREFECT_HOME"] = str(settings.home / "prefect")
    return env


def configure_clients(settings: Settings) -> None:
    """Export client_env into this process, keeping values the user already set."""
    for key, value in client_env(settings).items():
        os.environ.setdefault(key, value)
