"""RECOMMENDED edges in a real Neo4j: each batch replaces the previous set, users without one lose theirs."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pytest
from graph_inputs import wipe_graph
from neo4j import Driver

from shopgraph.adapters.explanations import explain_recommendations, user_recommendations
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.adapters.quality_store import failing_guardrail
from shopgraph.adapters.recommendations_store import graph_counts, write_graph
from shopgraph.settings import Settings

pytestmark = pytest.mark.integration
DB = "neo4j"


@pytest.fixture()
def driver(neo4j_settings: Settings) -> Iterator[Driver]:
    with neo4j_driver(neo4j_settings) as graph:
        wipe_graph(graph)
        graph.execute_query(
            "UNWIND $users AS id CREATE (:User {user_id: id}) "
            "WITH count(*) AS done UNWIND $products AS id CREATE (:Product {product_id: id})",
            {"users": ["u1", "u2", "u3"], "products": ["p1", "p2", "p3", "p4"]},
            database_=DB,
        )
        yield graph
        wipe_graph(graph)


def recs(rows: list[tuple[str, str, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": [r[0] for r in rows],
            "product_id": [r[1] for r in rows],
            "rank": [r[2] for r in rows],
            "score": [1.0 / r[2] for r in rows],
        }
    )


def edges(driver: Driver) -> set[tuple[str, str, int, str]]:
    records, _, _ = driver.execute_query(
        "MATCH (u:User)-[r:RECOMMENDED]->(p:Product) RETURN u.user_id, p.product_id, r.rank, r.model_version",
        database_=DB,
    )
    return {tuple(record.values()) for record in records}  # type: ignore[misc]


def test_batches_replace_sets_and_reruns_change_nothing(driver: Driver) -> None:
    first = recs([("u1", "p1", 1), ("u1", "p2", 2), ("u2", "p3", 1), ("u3", "p4", 1)])
    assert write_graph(driver, DB, first, "1", "d1:1", batch_users=2) == 4
    second = recs([("u1", "p3", 1), ("u2", "p4", 1), ("u2", "p1", 2)])  # u3 is no longer active
    write_graph(driver, DB, second, "2", "d2:2", batch_users=2)
    expected = {("u1", "p3", 1, "2"), ("u2", "p4", 1, "2"), ("u2", "p1", 2, "2")}
    assert edges(driver) == expected
    write_graph(driver, DB, second, "2", "d2:2", batch_users=1)
    assert edges(driver) == expected
    assert graph_counts(driver, DB) == {"edges": 3, "batches": 1}


def test_unknown_users_and_products_are_skipped_not_created(driver: Driver) -> None:
    write_graph(driver, DB, recs([("ghost", "p1", 1), ("u1", "p-missing", 1), ("u1", "p2", 2)]), "1", "b", 10)
    assert edges(driver) == {("u1", "p2", 2, "1")}
    records, _, _ = driver.execute_query("MATCH (n) RETURN count(n) AS n", database_=DB)
    assert records[0]["n"] == 7


def test_explanations_are_graph_paths_ranked_by_interaction_strength(driver: Driver) -> None:
    driver.execute_query(
        "MATCH (u:User {user_id: 'u1'}), (p1:Product {product_id: 'p1'}), (p2:Product {product_id: 'p2'}), "
        "(p3:Product {product_id: 'p3'}), (p4:Product {product_id: 'p4'}) "
        "SET p1.title = 'Red Boot', p2.title = 'Blue Boot' "
        "CREATE (b:Brand {name: 'Acme'}), (p1)-[:HAS_BRAND]->(b), (p3)-[:HAS_BRAND]->(b), "
        "(u)-[:PURCHASED {count: 1}]->(p1), (u)-[:VIEWED {count: 4}]->(p2), (p2)-[:SIMILAR_TO]->(p3)",
        database_=DB,
    )
    write_graph(driver, DB, recs([("u1", "p3", 1), ("u1", "p4", 2)]), "1", "b", 10)
    explained = explain_recommendations(driver, DB, ["u1"])
    assert explained.filter(pl.col("product_id") == "p3")["explanations"].to_list() == [
        ["brand|PURCHASED|p1|Red Boot|Acme", "similar|VIEWED|p2|Blue Boot|"]
    ]
    rows = user_recommendations(driver, DB, "u1", 5)
    assert [row["product_id"] for row in rows] == ["p3", "p4"]
    assert rows[0]["explanations"] == [
        "same brand (Acme) as Red Boot, which you bought",
        "similar to Blue Boot, which you viewed",
    ]
    assert rows[1]["explanations"] == []
    assert user_recommendations(driver, DB, "nobody' OR 1=1 //", 5) == []


def test_quality_guardrail_names_low_rated_and_complained_about_products(driver: Driver) -> None:
    driver.execute_query(
        "MATCH (p:Product {product_id: 'p1'}) SET p.quality_score = 1.8 "
        "WITH count(*) AS done MATCH (p:Product {product_id: 'p2'}) SET p.quality_score = 4.1 "
        "MERGE (i:Issue {name: 'defective'}) MERGE (p)-[:HAS_ISSUE {share: 0.6}]->(i) "
        "WITH count(*) AS done MATCH (p:Product {product_id: 'p3'}), (i:Issue {name: 'defective'}) "
        "SET p.quality_score = 3.9 MERGE (p)-[:HAS_ISSUE {share: 0.3}]->(i)",
        database_=DB,
    )
    assert failing_guardrail(driver, DB, 2.5, 0.5) == ["p1", "p2"]
    assert failing_guardrail(driver, DB, 0.0, 0.25) == ["p2", "p3"]  # p4 has no quality yet: kept
    assert failing_guardrail(driver, DB, 0.0, 1.0) == []
