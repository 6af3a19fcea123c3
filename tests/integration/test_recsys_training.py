"""Recommender training against a real MLflow store: runs side by side, registration, load back, batch."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import mlflow
import pandas as pd
import polars as pl
import pytest
from mlflow import MlflowClient

from shopgraph.adapters.recommendations_store import read_current
from shopgraph.domain.recsys.build import DatasetConfig, build_dataset
from shopgraph.recsys.batch import NoChampionError, recommend_batch
from shopgraph.recsys.train import train_models
from shopgraph.settings import load_settings

pytestmark = pytest.mark.integration
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def taste_frames(users: int = 40, items: int = 30) -> dict[str, pl.DataFrame]:
    """Users of group g view items of group g (brand g), one per hour, so a time split has history."""
    rows = []
    for user in range(users):
        group = user % 2
        for step in range(8):
            item = group * (items // 2) + (user + step * 3) % (items // 2)
            rows.append(
                (
                    f"u{user:02d}",
                    f"p{item:02d}",
                    "VIEWED",
                    1 + step % 2,
                    T0 + timedelta(hours=step * 7 + user % 5),
                )
            )
    interactions = pl.DataFrame(
        rows, schema=["user_id", "product_id", "interaction", "count", "first_at"], orient="row"
    ).with_columns(pl.col("first_at").dt.cast_time_unit("us"))
    return {
        "interactions": interactions,
        "products": pl.DataFrame(
            {"product_id": [f"p{i:02d}" for i in range(items)], "active": [True] * items}
        ),
        "item_brands": pl.DataFrame(
            {
                "product_id": [f"p{i:02d}" for i in range(items)],
                "brand": [f"b{i // (items // 2)}" for i in range(items)],
            }
        ),
    }


@pytest.fixture()
def settings(tmp_path: Path, mlflow_uri: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SHOPGRAPH_LAKE__ROOT", str(tmp_path / "lake"))
    return load_settings(recsys={"epochs": 4, "dim": 16, "batch_size": 128, "patience": 4})


def test_models_logged_side_by_side_and_main_registered(settings, mlflow_uri: str) -> None:  # type: ignore[no-untyped-def]
    data = build_dataset(taste_frames(), DatasetConfig(split="time"), name="tastes")
    report = train_models(
        data,
        ["popularity", "kg_text_gcn"],
        settings.recsys,
        tracking_uri=mlflow_uri,
        experiment="test-recsys-tastes",
        tags={"prefect_flow_run_id": "flow-123"},
    )
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    experiment = client.get_experiment_by_name("test-recsys-tastes")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert sorted(run.data.tags["model"] for run in runs) == ["kg_text_gcn", "popularity"]
    for run in runs:
        assert run.info.status == "FINISHED"
        assert {"test.ndcg_at_20", "test.recall_at_20", "valid.ndcg_at_20", "test.coverage_at_20"} <= set(
            run.data.metrics
        )
        assert (
            run.data.tags["data_digest"] == data.digest and run.data.tags["prefect_flow_run_id"] == "flow-123"
        )
        assert len(run.inputs.dataset_inputs) == 3
        artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "report")}
        assert {"report/metrics.json", "report/popularity_bias.png", "report/coverage.png"} <= artifacts
    main = next(run for run in runs if run.data.tags["model"] == "kg_text_gcn")
    history = client.get_metric_history(main.info.run_id, "val_ndcg_at_20")
    assert len(history) >= 1
    assert report.outcomes["kg_text_gcn"].version == "1"
    version = client.get_model_version_by_alias("shopgraph-recommender", "challenger")
    assert str(version.version) == "1" and version.run_id == main.info.run_id

    mlflow.set_tracking_uri(mlflow_uri)
    mlflow.set_registry_uri(mlflow_uri)
    model = mlflow.pyfunc.load_model("models:/shopgraph-recommender@challenger")
    predicted = model.predict(pd.DataFrame({"user_id": ["u00", "u01", "nobody"]}), params={"k": 5})
    assert sorted(set(predicted["user_id"])) == ["u00", "u01"]
    assert predicted.groupby("user_id").size().tolist() == [5, 5]
    trained = {
        (data.user_ids[u], data.item_ids[i])
        for part in (data.train, data.valid, data.test)
        for u, i in zip(part.users, part.items, strict=True)
    }
    assert not trained & set(zip(predicted["user_id"], predicted["product_id"], strict=True))


def test_batch_needs_a_champion_then_replaces_its_set(settings, mlflow_uri: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NoChampionError, match="shopgraph-recommender@champion"):
        recommend_batch(settings, date(2026, 1, 3), to_graph=False)
    data = build_dataset(taste_frames(), DatasetConfig(split="time"), name="tastes")
    train_models(
        data, ["kg_text_gcn"], settings.recsys, tracking_uri=mlflow_uri, experiment="test-recsys-batch"
    )
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    client.set_registered_model_alias("shopgraph-recommender", "champion", "1")
    first = recommend_batch(settings, date(2026, 1, 3), k=4, to_graph=False)
    again = recommend_batch(settings, date(2026, 1, 4), k=4, to_graph=False)
    current = read_current(settings.lake_root)
    assert current is not None
    assert first.rows == again.rows == current.height == 4 * data.n_users
    assert current["model_version"].unique().to_list() == ["1"]
    assert current["dt"].unique().to_list() == [date(2026, 1, 4)]
