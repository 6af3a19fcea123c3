"""NER training against a real MLflow SQLite store: register, champion alias, no promotion when not better;
the `train-ner` flow under Prefect; extraction output schemas and idempotent rewrites."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import torch
from mlflow import MlflowClient

from shopgraph.adapters.lake import lake_path, landing_files, read_parquet, write_parquet
from shopgraph.domain.ner.merge import ATTRIBUTE_SCHEMA
from shopgraph.generate import generate_shop
from shopgraph.ner.extract import PRODUCT_ENTITIES_SCHEMA, QUERY_ENTITIES_SCHEMA
from shopgraph.ner.stage import extract_from_lake, train_from_lake
from shopgraph.ner.train import TrainConfig
from shopgraph.schemas.lake_layout import (
    CURRENT_PRODUCTS,
    PRODUCT_ATTRIBUTES,
    PRODUCT_ENTITIES,
    QUERY_ENTITIES,
)
from shopgraph.settings import load_settings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL = "shopgraph-ner"


@pytest.fixture()
def lake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A generated shop whose day-1 live products stand in for the curated products."""
    root = str(tmp_path / "lake")
    generate_shop(root, products=60, users=10, days=1, start_date=date(2026, 1, 1), seed=11)
    landing = pl.concat([read_parquet(f) for f in landing_files(root, "products")])
    curated = landing.filter(~pl.col("is_deleted")).drop("is_deleted")
    write_parquet(curated, lake_path(root, *CURRENT_PRODUCTS, "part-00000.parquet"))
    monkeypatch.setenv("SHOPGRAPH_LAKE__ROOT", root)
    monkeypatch.setenv("SHOPGRAPH_NER__VAL_SHARE", "0.25")
    monkeypatch.setenv("SHOPGRAPH_NER__MAX_LENGTH", "64")
    monkeypatch.setenv("SHOPGRAPH_NER__BATCH_SIZE", "8")
    monkeypatch.setenv("SHOPGRAPH_NER__DEVICE", "cpu")
    return root


@pytest.fixture()
def one_thread() -> Iterator[None]:
    """One torch thread: on a small shared machine oversubscribed threads slow training several times."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _files(root: str, parts: tuple[str, ...]) -> list[Path]:
    return sorted(Path(lake_path(root, *parts)).glob("part-*.parquet"))


def test_train_register_champion_and_extract(
    lake: str, mlflow_uri: str, prefect_harness: None, one_thread: None
) -> None:
    settings = load_settings()
    assert settings.mlflow.resolved_tracking_uri == mlflow_uri
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)

    first = train_from_lake(settings, TrainConfig.from_settings(settings, epochs=2, learning_rate=3e-4))
    assert first.version == "1"
    assert first.promoted and first.champion_f1 is None
    assert first.val_f1 > 0.0
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"
    run = client.get_run(first.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["epochs"] == "2"
    assert [m.step for m in client.get_metric_history(first.run_id, "train_loss")] == [1, 2]
    assert run.data.metrics["best_val_f1"] == pytest.approx(first.val_f1)
    assert "best_val_brand_f1" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(first.run_id, "evaluation")}
    assert artifacts == {"evaluation/val_confusion.csv", "evaluation/val_entity_scores.csv"}
    assert {"model/config.json", "model/tokenizer.json"} <= {
        a.path for a in client.list_artifacts(first.run_id, "model")
    }
    assert client.get_model_version(MODEL, "1").tags["promotion"] == "promoted"

    # An untrained head (0 epochs) cannot beat the champion: registered, but the alias stays.
    from flows.train_ner import TrainNerParams, train_ner

    second = train_ner(TrainNerParams(epochs=0))
    assert second.version == "2"
    assert not second.promoted
    assert second.champion_version == "1"
    # The champion was re-scored on the same validation products and scored what it scored when trained.
    assert second.champion_f1 == pytest.approx(first.val_f1, abs=1e-9)
    assert second.val_f1 < first.val_f1
    assert str(client.get_model_version_by_alias(MODEL, "champion").version) == "1"
    tags = client.get_model_version(MODEL, "2").tags
    assert tags["promotion"] == "kept" and tags["champion_version_before"] == "1"

    summary = extract_from_lake(load_settings())
    assert summary.model_version == f"{MODEL}/1"
    entity_files = _files(lake, PRODUCT_ENTITIES)
    entities = pl.concat([pl.read_parquet(f) for f in entity_files])
    assert entities.schema == PRODUCT_ENTITIES_SCHEMA
    assert entities.height == summary.entities > 0
    assert entities["confidence"].is_between(0, 1).all()
    attributes = pl.read_parquet(_files(lake, PRODUCT_ATTRIBUTES)[0])
    assert attributes.schema == ATTRIBUTE_SCHEMA
    assert set(attributes["source"].unique()) <= {"catalog", "ner"}
    assert attributes.filter(pl.col("source") == "catalog").height > 0
    queries = pl.read_parquet(_files(lake, QUERY_ENTITIES)[0])
    assert queries.schema == QUERY_ENTITIES_SCHEMA
    assert summary.queries > 0

    assert summary.tagged == summary.products
    assert summary.queries_tagged == summary.queries

    # Idempotent and incremental: a rerun with the same model tags nothing and writes the same rows.
    again = extract_from_lake(load_settings())
    assert again.files == summary.files and again.tagged == 0 and again.queries_tagged == 0
    assert pl.concat([pl.read_parquet(f) for f in _files(lake, PRODUCT_ENTITIES)]).equals(entities)
    assert pl.read_parquet(_files(lake, QUERY_ENTITIES)[0]).equals(queries)

    # Another model version tags every product and query again.
    other = extract_from_lake(load_settings(), model=f"models:/{MODEL}/2")
    assert other.tagged == other.products and other.model_version != summary.model_version
    assert other.queries_tagged == other.queries
