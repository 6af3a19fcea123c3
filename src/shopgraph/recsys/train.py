"""Train recommenders on one split and track each as an MLflow run; the main model is registered."""

from __future__ import annotations

import logging
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from mlflow import MlflowClient
from mlflow.data.dataset_source import DatasetSource
from mlflow.data.meta_dataset import MetaDataset
from mlflow.entities import DatasetInput, InputTag
from mlflow.system_metrics.system_metrics_monitor import SystemMetricsMonitor

from shopgraph.adapters.registry import ensure_experiment, register_version, registry_client, run_link
from shopgraph.adapters.tracking import log_values
from shopgraph.domain.recsys.api import Recommender
from shopgraph.domain.recsys.data import RecDataset
from shopgraph.domain.recsys.evaluate import evaluate
from shopgraph.errors import ShopgraphError
from shopgraph.recsys.models import make_model
from shopgraph.recsys.pyfunc import save_pyfunc
from shopgraph.recsys.report import write_report
from shopgraph.recsys.scorer import FactorScorer
from shopgraph.settings import REPO_ROOT, RecsysSettings

log = logging.getLogger(__name__)
MODEL_ARTIFACT = "model"
REPORT_ARTIFACT = "report"
EMBEDDINGS_ARTIFACT = "embeddings"
KS = (10, 20, 50)
Progress = Callable[[str], None]


class TrainingError(ShopgraphError):
    """A recommender run could not be trained or logged; the message names the model."""


@dataclass
class ModelOutcome:
    """One model's run: its id and link, final metrics (valid.* and test.*), timing and registration."""

    name: str
    run_id: str
    link: str
    metrics: dict[str, float]
    epoch_s: float
    peak_memory_mb: float
    version: str | None = None


@dataclass
class TrainReport:
    """Every model trained on one dataset split, side by side in one experiment."""

    experiment: str
    dataset: str
    split: str
    digest: str
    main: str
    outcomes: dict[str, ModelOutcome] = field(default_factory=dict)

    def table(self) -> list[dict[str, Any]]:
        """One row per model: the headline test metrics and timing."""
        keys = ("recall@20", "ndcg@20", "coverage@20", "cold_recall@20")
        return [
            {
                "model": name,
                **{key: round(o.metrics.get(f"test.{key}", float("nan")), 4) for key in keys},
                "epoch_s": round(o.epoch_s, 3),
                "version": o.version or "",
            }
            for name, o in self.outcomes.items()
        ]


def metric_name(key: str) -> str:
    """MLflow-safe metric names: ndcg@20 -> ndcg_at_20, ndcg@20|activity=low -> ndcg_at_20.activity_low."""
    return key.replace("@", "_at_").replace("|", ".").replace("=", "_")


def git_commit() -> str:
    """The repository's HEAD commit, or 'unknown' outside a git checkout."""
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except OSError:
        return "unknown"
    return done.stdout.strip() or "unknown"


def dataset_inputs(data: RecDataset) -> list[DatasetInput]:
    """The train/valid/test splits as MLflow dataset inputs carrying the snapshot digest."""

    class _Snapshot(DatasetSource):  # type: ignore[misc]
        @staticmethod
        def _get_source_type() -> str:
            return "shopgraph-snapshot"

        def load(self, **_: Any) -> str:
            return data.name

        @staticmethod
        def _can_resolve(raw_source: Any) -> bool:
            return False

        @classmethod
        def _resolve(cls, raw_source: Any) -> _Snapshot:
            return cls()

        def to_dict(self) -> dict[str, Any]:
            return {"dataset": data.name, "digest": data.digest}

        @classmethod
        def from_dict(cls, source_dict: dict[str, Any]) -> _Snapshot:
            return cls()

    inputs = []
    for context, part in (("training", data.train), ("validation", data.valid), ("testing", data.test)):
        name = f"{data.name}-{data.split}-{context}"
        meta = MetaDataset(source=_Snapshot(), name=name, digest=data.digest)  # type: ignore[abstract]
        entity = meta._to_mlflow_entity()
        inputs.append(
            DatasetInput(entity, [InputTag("mlflow.data.context", context), InputTag("rows", str(len(part)))])
        )
    return inputs


def _peak_memory_mb() -> float:
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated() / 2**20
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _factors(model: Recommender, data: RecDataset) -> tuple[np.ndarray, np.ndarray] | None:
    factors = getattr(model, "factors", None)
    return factors() if callable(factors) else None


def train_models(
    data: RecDataset,
    names: Sequence[str],
    config: RecsysSettings,
    *,
    tracking_uri: str,
    experiment: str,
    tags: Mapping[str, str] | None = None,
    progress: Progress | None = None,
    register: bool = True,
) -> TrainReport:
    """Fit, evaluate (valid and test, full ranking) and log each named model as one run of `experiment`.

    The main model (config.main_model) is saved as a pyfunc and registered as config.registered_model with
    the alias `challenger`; promotion to `champion` is the promotion step's job.
    """
    client = registry_client(tracking_uri)
    experiment_id = ensure_experiment(client, experiment, tracking_uri)
    report = TrainReport(experiment, data.name, data.split, data.digest, config.main_model)
    common_tags = {
        "git_commit": git_commit(),
        "dataset": data.name,
        "split": data.split,
        "data_digest": data.digest,
        **dict(tags or {}),
    }
    for name in names:
        model = make_model(name, config, data)
        run = client.create_run(
            experiment_id, run_name=f"{data.name}-{name}", tags={**common_tags, "model": name}
        )
        run_id = run.info.run_id
        monitor = SystemMetricsMonitor(run_id, sampling_interval=2, tracking_uri=tracking_uri)
        try:
            monitor.start()
            outcome = _fit_and_log(
                client, run_id, model, data, config, progress, register and name == config.main_model
            )
            outcome.link = run_link(tracking_uri, experiment_id, run_id)
            report.outcomes[name] = outcome
            client.set_terminated(run_id, "FINISHED")
        except Exception:
            client.set_terminated(run_id, "FAILED")
            raise
        finally:
            monitor.finish()
    return report


def _fit_and_log(
    client: MlflowClient,
    run_id: str,
    model: Recommender,
    data: RecDataset,
    config: RecsysSettings,
    progress: Progress | None,
    register: bool,
) -> ModelOutcome:
    params = {
        **{f"model.{key}": value for key, value in getattr(model, "params", dict)().items()},
        **{f"data.{key}": value for key, value in config.model_dump(exclude={"models"}).items()},
        "data.users": data.n_users,
        "data.items": data.n_items,
        "data.entities": data.n_entities,
        "data.train_pairs": len(data.train),
        "data.valid_pairs": len(data.valid),
        "data.test_pairs": len(data.test),
        "data.cold_items": len(data.cold_items()),
    }
    log_values(client, run_id, params=params)
    client.log_inputs(run_id, dataset_inputs(data))
    epochs: list[dict[str, float]] = []

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        epochs.append({"epoch": epoch, **metrics})
        log_values(client, run_id, metrics={metric_name(k): v for k, v in metrics.items()}, step=epoch)
        if progress:
            shown = ", ".join(f"{key} {value:.4f}" for key, value in metrics.items())
            progress(f"{model.name} epoch {epoch}: {shown}")

    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    started = time.perf_counter()
    model.fit(data, on_epoch)
    fit_seconds = time.perf_counter() - started
    epoch_s = float(np.mean([e["epoch_s"] for e in epochs if "epoch_s" in e])) if epochs else fit_seconds
    metrics: dict[str, float] = {}
    for split in ("valid", "test"):
        scores = evaluate(model.score, data, split=split, ks=KS)  # type: ignore[arg-type]
        metrics.update({f"{split}.{key}": float(value) for key, value in scores.items()})
    metrics["fit_s"] = fit_seconds
    metrics["epoch_s"] = epoch_s
    peak = _peak_memory_mb()
    metrics["peak_memory_mb"] = peak
    sampling = getattr(model, "sampling_seconds", None)
    if sampling is not None and fit_seconds > 0:
        metrics["sampling_share"] = float(sampling) / fit_seconds
    log_values(client, run_id, metrics={metric_name(key): value for key, value in metrics.items()})
    outcome = ModelOutcome(model.name, run_id, "", metrics, epoch_s, peak)
    with tempfile.TemporaryDirectory(prefix="shopgraph-recsys-") as work:
        folder = Path(work)
        write_report(folder / REPORT_ARTIFACT, model, data, epochs, metrics)
        client.log_artifacts(run_id, str(folder / REPORT_ARTIFACT), REPORT_ARTIFACT)
        factors = _factors(model, data)
        if factors is not None:
            scorer = FactorScorer.from_dataset(data, *factors)
            scorer.save(folder / EMBEDDINGS_ARTIFACT)
            client.log_artifacts(run_id, str(folder / EMBEDDINGS_ARTIFACT), EMBEDDINGS_ARTIFACT)
            if register:
                save_pyfunc(scorer, folder / MODEL_ARTIFACT, folder / "pyfunc-work")
                client.log_artifacts(run_id, str(folder / MODEL_ARTIFACT), MODEL_ARTIFACT)
        elif register:
            raise TrainingError(f"{model.name}: the main model must expose factors() to be registered")
    if register:
        version_tags = {
            **{metric_name(key): f"{value:.6f}" for key, value in metrics.items() if key.startswith("test.")},
            "data_digest": data.digest,
        }
        version = register_version(client, config.registered_model, run_id, MODEL_ARTIFACT, version_tags)
        client.set_registered_model_alias(config.registered_model, "challenger", version.version)
        outcome.version = str(version.version)
        client.set_tag(run_id, "model_version", str(version.version))
    return outcome
