"""Parameterised Cypher behind the serving API: recommendations, the popular fallback, similar products."""

from __future__ import annotations

from typing import Any

from neo4j import Driver

RECOMMENDED = """
MATCH (u:User {user_id: $user_id})-[r:RECOMMENDED]->(p:Product)
WHERE coalesce(p.active, true)
RETURN p.product_id AS product_id, p.title AS title, r.rank AS rank, r.score AS score,
       r.model_version AS model_version, coalesce(r.explanations, []) AS explanations
ORDER BY r.rank LIMIT $k
"""
# Unknown users, or users without a set: the most purchased active products of the categories the user
# touched (none for a brand-new user: then of every category).
POPULAR_IN_TASTES = """
OPTIONAL MATCH (u:User {user_id: $user_id})-[]->(:Product)-[:IN_CATEGORY]->(c:Category)
WITH collect(DISTINCT c) AS tastes
MATCH (p:Product)<-[i:PURCHASED|ADDED_TO_CART|CLICKED]-(:User)
WHERE coalesce(p.active, true)
  AND (size(tastes) = 0 OR EXISTS { MATCH (p)-[:IN_CATEGORY]->(c) WHERE c IN tastes })
WITH p, sum(i.count) AS popularity, size(tastes) > 0 AS in_tastes
RETURN p.product_id AS product_id, p.title AS title, popularity, in_tastes
ORDER BY popularity DESC, p.product_id LIMIT $k
"""
SIMILAR = """
MATCH (p:Product {product_id: $product_id})
OPTIONAL MATCH (p)-[s:SIMILAR_TO]->(q:Product)
WHERE coalesce(q.active, true)
WITH p, q, s ORDER BY s.rank
RETURN p.product_id AS found, collect(CASE WHEN q IS NULL THEN NULL ELSE
       {product_id: q.product_id, title: q.title, score: s.score, rank: s.rank} END)[..$k] AS similar
"""


def recommended(driver: Driver, database: str, user_id: str, k: int) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(RECOMMENDED, {"user_id": user_id, "k": k}, database_=database)
    return [dict(record) for record in records]


def popular_in_tastes(driver: Driver, database: str, user_id: str, k: int) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(POPULAR_IN_TASTES, {"user_id": user_id, "k": k}, database_=database)
    return [dict(record) for record in records]


def similar(driver: Driver, database: str, product_id: str, k: int) -> list[dict[str, Any]] | None:
    """Nearest products by SIMILAR_TO rank; None when the product does not exist."""
    records, _, _ = driver.execute_query(SIMILAR, {"product_id": product_id, "k": k}, database_=database)
    if not records or records[0]["found"] is None:
        return None
    return [row for row in records[0]["similar"] if row is not None]
