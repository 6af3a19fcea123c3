"""Two consecutive nightly runs on a tiny shop: the graph grows, two recommender versions are registered,
the policy decides, and the recommendation set is replaced in the lake and in Neo4j, never appended."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import torch
from graph_inputs import wipe_graph
from mlflow import MlflowClient

from shopgraph.adapters.graph_loader import graph_counts
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.adapters.lake import lake_path, landing_files, write_parquet
from shopgraph.adapters.recommendations_store import graph_counts as recommendation_counts
from shopgraph.adapters.recommendations_store import read_current
from shopgraph.generate import generate_shop
from shopgraph.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.e2e, pytest.mark.slow]
TOP_K = 5


@pytest.fixture()
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    root = str(tmp_path / "lake")
    generate_shop(root, products=80, users=60, days=3, start_date=date(2026, 1, 1), seed=11)
    monkeypatch.setenv("SHOPGRAPH_LAKE__ROOT", root)
    for key, value in {
        "NER__MAX_LENGTH": "32",
        "NER__DEVICE": "cpu",
        "EMBEDDING__DEVICE": "cpu",
        "EMBEDDING__MAX_LENGTH": "64",
        "INGEST__DATA_DOCS": "false",
        "RECSYS__EPOCHS": "3",
        "RECSYS__DIM": "16",
        "RECSYS__BATCH_SIZE": "256",
        "RECSYS__TOP_K": str(TOP_K),
        "RECSYS__DEVICE": "cpu",
    }.items():
        monkeypatch.setenv(f"SHOPGRAPH_{key}", value)
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield root
    torch.set_num_threads(before)


def test_two_nights_register_two_versions_and_replace_recommendations(
    shop: str, mlflow_uri: str, neo4j_env: Settings, prefect_harness: None
) -> None:
    from flows.daily import DailyParams, daily
    from flows.ingest import IngestParams, ingest
    from flows.nightly import NightlyParams, nightly
    from flows.train_ner import TrainNerParams, train_ner

    database = neo4j_env.neo4j.database
    with neo4j_driver(neo4j_env) as driver:
        wipe_graph(driver)
    ingest(IngestParams(date="2026-01-01"))
    assert train_ner(TrainNerParams(epochs=0)).promoted  # enrich needs a NER champion; untrained is enough
    daily(DailyParams(date=date(2026, 1, 1)))  # history before the first night, as after a backfill

    first = nightly(NightlyParams(date=date(2026, 1, 2)))
    with neo4j_driver(neo4j_env) as driver:
        after_first = graph_counts(driver, database)
        edges_first = recommendation_counts(driver, database)
    assert first.promotion and first.promotion["promoted"] and first.champion is None
    assert first.recommendations and first.recommendations["model_version"] == "1"
    lake_first = read_current(shop)
    assert lake_first is not None and lake_first["user_id"].n_unique() * TOP_K >= lake_first.height > 0

    second = nightly(NightlyParams(date=date(2026, 1, 3)))
    with neo4j_driver(neo4j_env) as driver:
        after_second = graph_counts(driver, database)
        edges_second = recommendation_counts(driver, database)
    assert after_second["Product"] >= after_first["Product"] and after_second["User"] >= after_first["User"]
    assert sum(after_second.values()) > sum(after_first.values())
    assert second.challenger and second.challenger["version"] == "2"
    assert second.champion and second.champion["version"] == "1"  # scored on the challenger's split
    assert second.promotion and second.promotion["reasons"]
    # Each night's challenger trains on the export that night wrote after its graph writes.
    for night in (first, second):
        assert night.data.graph and night.data.graph.export_path
        assert Path(night.data.graph.export_path, "manifest.json").exists()
        assert night.challenger and night.challenger["snapshot"] == night.data.graph.export_path
    assert first.data.graph.export_digest != second.data.graph.export_digest  # type: ignore[union-attr]
    client = MlflowClient(tracking_uri=mlflow_uri, registry_uri=mlflow_uri)
    versions = client.search_model_versions("name='shopgraph-recommender'")
    assert sorted(str(v.version) for v in versions) == ["1", "2"]
    champion = client.get_model_version_by_alias("shopgraph-recommender", "champion")
    assert str(champion.version) == ("2" if second.promotion["promoted"] else "1")
    tags = client.get_model_version("shopgraph-recommender", "2").tags
    assert tags["promotion.decision"] in {"promoted", "kept"}
    lake_second = read_current(shop)
    assert lake_second is not None and set(lake_second["dt"].to_list()) == {date(2026, 1, 3)}
    assert set(lake_second["model_version"].to_list()) == {str(champion.version)}
    assert edges_first["batches"] == edges_second["batches"] == 1
    assert edges_second["edges"] == lake_second.height

    # The same night again on unchanged inputs: no partition redone, the challenger's persisted result
    # (keyed by the content of its inputs) reused instead of training and registering a third version.
    again = nightly(NightlyParams(date=date(2026, 1, 3)))
    assert again.data.skipped
    assert again.challenger and again.challenger["version"] == "2"
    with neo4j_driver(neo4j_env) as driver:
        assert graph_counts(driver, database) == after_second
        edges_again = recommendation_counts(driver, database)
    assert edges_again == edges_second
    assert sorted(str(v.version) for v in client.search_model_versions("name='shopgraph-recommender'")) == [
        "1",
        "2",
    ]

    # A validation failure (the next day's products lack a required column) fails the night before the
    # graph stage: graph, champion and recommendations stay as they were.
    broken = pl.read_parquet(landing_files(shop, "products")[-1]).drop("title")
    write_parquet(broken, lake_path(shop, "landing", "products", "dt=2026-01-04", "part-00000.parquet"))
    with pytest.raises(Exception, match="title"):
        nightly(NightlyParams(date=date(2026, 1, 4)))
    with neo4j_driver(neo4j_env) as driver:
        assert graph_counts(driver, database) == after_second
        assert recommendation_counts(driver, database) == edges_second
        wipe_graph(driver)
    champion_after = client.get_model_version_by_alias("shopgraph-recommender", "champion")
    assert champion_after.version == champion.version
    lake_after = read_current(shop)
    assert lake_after is not None and lake_after.select("user_id", "product_id", "rank").equals(
        lake_second.select("user_id", "product_id", "rank")
    )
