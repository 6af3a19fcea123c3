"""MLflow model registry for NER: experiments, versions, aliases, version tags and model downloads."""

from __future__ import annotations

import urllib.request
from collections.abc import Mapping
from pathlib import Path

import mlflow
from mlflow import MlflowClient
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException

from shopgraph.adapters.tracking import experiment_id


def registry_client(tracking_uri: str) -> MlflowClient:
    """A client whose tracking and registry stores are both at tracking_uri."""
    return MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)


def sqlite_artifact_location(tracking_uri: str) -> str | None:
    """Artifacts beside a SQLite store (<db folder>/mlartifacts) so they never land in the working folder."""
    if not tracking_uri.startswith("sqlite:///"):
        return None
    database = Path(tracking_uri.removeprefix("sqlite:///"))
    return (database.parent / "mlartifacts").as_uri()


def ensure_experiment(client: MlflowClient, name: str, tracking_uri: str) -> str:
    """The experiment's id, creating it (with artifacts beside a SQLite store) when missing."""
    location = sqlite_artifact_location(tracking_uri)
    if location is None or client.get_experiment_by_name(name) is not None:
        return experiment_id(client, name)
    return str(client.create_experiment(name, artifact_location=location))


def run_link(tracking_uri: str, experiment: str, run_id: str) -> str:
    """The run's page in the MLflow UI for a server URI; a runs:/ URI otherwise."""
    if tracking_uri.startswith(("http://", "https://")):
        return f"{tracking_uri.rstrip('/')}/#/experiments/{experiment}/runs/{run_id}"
    return f"runs:/{run_id}"


def register_version(
    client: MlflowClient,
    name: str,
    run_id: str,
    artifact_path: str,
    tags: Mapping[str, str] | None = None,
) -> ModelVersion:
    """Register the run's artifact folder as a new version of the named model (created when missing), with
    its version tags set in the same request."""
    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(name)
    source = f"{client.get_run(run_id).info.artifact_uri.rstrip('/')}/{artifact_path}"
    return client.create_model_version(name, source=source, run_id=run_id, tags=dict(tags or {}))


def alias_version(client: MlflowClient, name: str, alias: str) -> ModelVersion | None:
    """The version the alias points at, or None when the model or the alias does not exist."""
    try:
        return client.get_model_version_by_alias(name, alias)
    except MlflowException:
        return None


def model_uri(name: str, alias: str) -> str:
    """models:/<name>@<alias>."""
    return f"models:/{name}@{alias}"


def download_model(uri: str, tracking_uri: str, destination: Path) -> Path:
    """Download a models:/<name>@<alias>, models:/<name>/<version> or runs:/ URI into destination."""
    destination.mkdir(parents=True, exist_ok=True)
    source = uri
    if uri.startswith("models:/"):
        client = registry_client(tracking_uri)
        name, _, alias = uri.removeprefix("models:/").partition("@")
        if alias:
            version = alias_version(client, name, alias)
            if version is None:
                raise MlflowException(f"{uri}: no such model or alias at {tracking_uri}")
        else:
            name, _, number = name.partition("/")
            version = client.get_model_version(name, number)
        source = str(version.source)
    local = mlflow.artifacts.download_artifacts(
        artifact_uri=source, dst_path=str(destination), tracking_uri=tracking_uri
    )
    return Path(local)


def tracking_store_problem(tracking_uri: str) -> str | None:
    """Why the tracking store cannot hold a champion (None when it may): checked cheaply, so that a
    stopped MLflow server or a missing SQLite file does not stall search on retries."""
    if tracking_uri.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(f"{tracking_uri.rstrip('/')}/health", timeout=2):  # noqa: S310
                return None
        except OSError as exc:
            return f"MLflow at {tracking_uri} is unreachable ({exc})"
    if tracking_uri.startswith("sqlite:///") and not Path(tracking_uri.removeprefix("sqlite:///")).exists():
        return f"no MLflow store at {tracking_uri}"
    return None
