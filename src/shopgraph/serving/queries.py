"""Parameterised Cypher behind the serving API: recommendations, the popular fallback, similar products."""

from __future__ import annotations

from typing import Any

from neo4j import Driver

from shopgraph.serving.popular import PopularProduct, PopularSnapshot

RECOMMENDED = """
MATCH (u:User {user_id: $user_id})-[r:RECOMMENDED]->(p:Product)
WHERE coalesce(p.active, true)
RETURN p.product_id AS product_id, p.title AS title, r.rank AS rank, r.score AS score,
       r.model_version AS model_version, coalesce(r.explanations, []) AS explanations
ORDER BY r.rank LIMIT $k
"""
# The popular fallback: the categories a user touched, and the most purchased, carted and clicked active
# products per category and overall (computed in the background, see serving/popular.py).
USER_CATEGORIES = """
OPTIONAL MATCH (u:User {user_id: $user_id})-[]->(:Product)-[:IN_CATEGORY]->(c:Category)
RETURN collect(DISTINCT c.path) AS tastes
"""
POPULAR_PRODUCTS = """
MATCH (p:Product)<-[i:PURCHASED|ADDED_TO_CART|CLICKED]-(:User)
WHERE coalesce(p.active, true)
WITH p, sum(i.count) AS popularity
OPTIONAL MATCH (p)-[:IN_CATEGORY]->(c:Category)
RETURN p.product_id AS product_id, p.title AS title, popularity, collect(c.path) AS categories
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


def user_categories(driver: Driver, database: str, user_id: str) -> list[str]:
    """Category paths of the products the user has an edge to (empty for an unknown user)."""
    records, _, _ = driver.execute_query(USER_CATEGORIES, {"user_id": user_id}, database_=database)
    return [str(path) for path in records[0]["tastes"]] if records else []


def popular_products(driver: Driver, database: str, per_category: int) -> PopularSnapshot:
    """The per_category most popular active products overall and in every category."""
    records, _, _ = driver.execute_query(POPULAR_PRODUCTS, database_=database)
    ranked = sorted(records, key=lambda r: (-r["popularity"], r["product_id"]))
    overall: list[PopularProduct] = []
    by_category: dict[str, list[PopularProduct]] = {}
    for record in ranked:
        product = PopularProduct(record["product_id"], record["title"], int(record["popularity"]))
        if len(overall) < per_category:
            overall.append(product)
        for path in record["categories"]:
            top = by_category.setdefault(path, [])
            if len(top) < per_category:
                top.append(product)
    return PopularSnapshot(overall, by_category)


def similar(driver: Driver, database: str, product_id: str, k: int) -> list[dict[str, Any]] | None:
    """Nearest products by SIMILAR_TO rank; None when the product does not exist."""
    records, _, _ = driver.execute_query(SIMILAR, {"product_id": product_id, "k": k}, database_=database)
    if not records or records[0]["found"] is None:
        return None
    return [row for row in records[0]["similar"] if row is not None]
