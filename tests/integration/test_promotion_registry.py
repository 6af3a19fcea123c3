"""Champion/challenger/previous aliases against a real MLflow SQLite registry: policy, CLI, flow, rollback."""

from __future__ import annotations

from pathlib import Path

import pytest
from mlflow import MlflowClient
from typer.testing import CliRunner

from shopgraph.adapters.promotion import (
    CHALLENGER,
    CHAMPION,
    PREVIOUS,
    PromotionError,
    promote,
    rollback,
)
from shopgraph.adapters.registry import alias_version, ensure_experiment, register_version, registry_client
from shopgraph.domain.promotion import PromotionPolicy
from shopgraph.runtime import client_env
from shopgraph.settings import load_settings

pytestmark = pytest.mark.integration
MODEL = "shopgraph-recommender"
POLICY = PromotionPolicy(
    primary_metric="test.ndcg_at_20",
    min_delta=0.005,
    guardrails={"test.coverage_at_20": 0.02, "test.cold_recall_at_20": 0.02},
)


def _register(client: MlflowClient, uri: str, tmp: Path, metrics: dict[str, float], **tags: str) -> str:
    """A training run with test metrics and a tiny artifact model, registered as a new version."""
    experiment = ensure_experiment(client, "shopgraph-recommender-test", uri)
    run_id = client.create_run(experiment, tags=tags).info.run_id
    for name, value in metrics.items():
        client.log_metric(run_id, name, value)
    weights = tmp / f"weights-{run_id}.txt"
    weights.write_text(repr(sorted(metrics.items())))
    client.log_artifact(run_id, str(weights), artifact_path="model")
    client.set_terminated(run_id)
    return str(register_version(client, MODEL, run_id, "model").version)


def _aliases(client: MlflowClient) -> dict[str, str | None]:
    found = {alias: alias_version(client, MODEL, alias) for alias in (CHAMPION, CHALLENGER, PREVIOUS)}
    return {alias: (str(version.version) if version else None) for alias, version in found.items()}


def _tags(client: MlflowClient, version: str) -> dict[str, str]:
    return dict(client.get_model_version(MODEL, version).tags)


def metrics(ndcg: float, coverage: float = 0.5, cold: float = 0.1) -> dict[str, float]:
    return {"test.ndcg_at_20": ndcg, "test.coverage_at_20": coverage, "test.cold_recall_at_20": cold}


def test_worse_kept_better_promoted_rollback_restores(mlflow_uri: str, tmp_path: Path) -> None:
    client = registry_client(mlflow_uri)
    first = _register(client, mlflow_uri, tmp_path, metrics(0.30))
    outcome = promote(client, MODEL, first, POLICY)
    assert outcome.decision.promote and _aliases(client) == {
        CHAMPION: first,
        CHALLENGER: None,
        PREVIOUS: None,
    }
    assert "no champion yet" in _tags(client, first)["promotion.reasons"]

    worse = _register(client, mlflow_uri, tmp_path, metrics(0.25))
    kept = promote(client, MODEL, worse, POLICY)
    assert not kept.decision.promote and kept.champion_after == first
    assert _aliases(client) == {CHAMPION: first, CHALLENGER: worse, PREVIOUS: None}
    for version, role in ((worse, "challenger"), (first, "champion")):
        tags = _tags(client, version)
        assert tags["promotion.decision"] == "kept" and tags["promotion.role"] == role
        assert "does not improve enough" in tags["promotion.reasons"]
        assert tags["promotion.challenger_version"] == worse and tags["promotion.champion_version"] == first

    guardrail = _register(client, mlflow_uri, tmp_path, metrics(0.40, coverage=0.40))
    assert not promote(client, MODEL, guardrail, POLICY).decision.promote
    assert "guardrail test.coverage_at_20 broken" in _tags(client, guardrail)["promotion.reasons"]
    assert _aliases(client)[CHAMPION] == first

    better = _register(client, mlflow_uri, tmp_path, metrics(0.33, coverage=0.49))
    promoted = promote(client, MODEL, better, POLICY)
    assert promoted.decision.promote and promoted.previous_after == first
    assert _aliases(client) == {CHAMPION: better, CHALLENGER: guardrail, PREVIOUS: first}
    assert _tags(client, first)["promotion.decision"] == "promoted"
    assert _tags(client, first)["promotion.role"] == "champion"

    again = promote(client, MODEL, better, POLICY)  # a retried promotion changes nothing
    assert not again.decision.promote and _aliases(client)[CHAMPION] == better

    restored = rollback(client, MODEL)
    assert restored.champion == first and restored.rolled_back == better
    assert _aliases(client) == {CHAMPION: first, CHALLENGER: guardrail, PREVIOUS: None}
    assert _tags(client, better)["promotion.rolled_back_to"] == first
    with pytest.raises(PromotionError, match="no `previous` version"):
        rollback(client, MODEL)


def test_validation_failure_and_force(mlflow_uri: str, tmp_path: Path) -> None:
    client = registry_client(mlflow_uri)
    first = _register(client, mlflow_uri, tmp_path, metrics(0.30))
    promote(client, MODEL, first, POLICY)
    failed = _register(client, mlflow_uri, tmp_path, metrics(0.50), validation_passed="false")
    decision = promote(client, MODEL, failed, POLICY)
    assert not decision.decision.promote and "data validation failed" in decision.decision.reasons
    assert _aliases(client)[CHAMPION] == first

    forced = promote(client, MODEL, failed, POLICY, force=True)
    assert forced.decision.promote and forced.forced
    tags = _tags(client, failed)
    assert tags["promotion.forced"] == "true" and "data validation failed" in tags["promotion.reasons"]
    assert _aliases(client) == {CHAMPION: failed, CHALLENGER: None, PREVIOUS: first}

    with pytest.raises(PromotionError, match=r"has no version '9' \(versions: 1, 2\)"):
        promote(client, MODEL, "9", POLICY)
    with pytest.raises(PromotionError, match="no registered model 'nope'"):
        promote(client, "nope", "1", POLICY)


def test_promote_and_rollback_commands(
    mlflow_uri: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shopgraph.cli import app

    for key in client_env(load_settings()):
        monkeypatch.delenv(key, raising=False)  # the CLI exports these; undo them after the test
    monkeypatch.setenv("SHOPGRAPH_PROMOTION__MIN_DELTA", "0.005")
    client = registry_client(mlflow_uri)
    first = _register(client, mlflow_uri, tmp_path, metrics(0.30))
    second = _register(client, mlflow_uri, tmp_path, metrics(0.29))
    runner = CliRunner()

    assert runner.invoke(app, ["promote", first]).exit_code == 0
    kept = runner.invoke(app, ["promote", second])
    assert kept.exit_code == 1 and "not promoted: champion stays v1" in kept.output
    forced = runner.invoke(app, ["promote", "challenger", "--force"])
    assert forced.exit_code == 0, forced.output
    assert "v2 is champion (forced); previous: v1" in forced.output
    back = runner.invoke(app, ["rollback"])
    assert back.exit_code == 0 and "champion is v1 again (rolled back v2)" in back.output
    none_left = runner.invoke(app, ["rollback"])
    assert none_left.exit_code == 1 and "no `previous` version" in none_left.output
    unknown = runner.invoke(app, ["promote", "7"])
    assert unknown.exit_code == 1 and "has no version '7'" in unknown.output
    other = runner.invoke(app, ["rollback", "--model", "nope"])
    assert other.exit_code == 1 and "no registered model 'nope'" in other.output


def test_promote_flow_publishes_the_decision(mlflow_uri: str, tmp_path: Path, prefect_harness: None) -> None:
    from prefect.artifacts import Artifact

    from flows.promote import PromoteParams
    from flows.promote import promote as promote_flow

    client = registry_client(mlflow_uri)
    first = _register(client, mlflow_uri, tmp_path, metrics(0.30))
    outcome = promote_flow(PromoteParams(version=first))
    assert outcome.decision.promote and _aliases(client)[CHAMPION] == first
    artifact = Artifact.get("promotion-decision")
    assert artifact is not None and f"version {first}: promoted to champion" in str(artifact.data)
