"""Review-mined quality in Neo4j: Product.quality_score and HAS_ISSUE edges to Issue nodes, idempotently."""

from __future__ import annotations

from typing import Any

import polars as pl
from neo4j import Driver

from shopgraph.domain import graph_rows as G

ISSUE = "Issue"
HAS_ISSUE = "HAS_ISSUE"
ISSUE_CONSTRAINT = "CREATE CONSTRAINT issue_key IF NOT EXISTS FOR (n:Issue) REQUIRE n.name IS UNIQUE"
# Each product gets exactly the issues in row.issues: edges to issues it no longer has are deleted in
# the same transaction as the current ones are merged, so a rerun changes nothing.
WRITE_QUALITY_QUERY = "\n".join(
    [
        "UNWIND $rows AS row",
        "MATCH (p:Product {product_id: row.product_id})",
        "SET p.quality_score = row.quality_score, p.review_count = row.review_count",
        "WITH p, row",
        "OPTIONAL MATCH (p)-[old:HAS_ISSUE]->(i:Issue)",
        "WHERE NOT i.name IN [x IN row.issues | x.name]",
        "DELETE old",
        "WITH DISTINCT p, row",
        "UNWIND row.issues AS issue",
        "MERGE (i:Issue {name: issue.name})",
        "MERGE (p)-[r:HAS_ISSUE]->(i)",
        "SET r.share = issue.share, r.reviews = issue.reviews",
        "RETURN count(*) AS written",
    ]
)
ISSUES_QUERY = (
    "MATCH (p:Product)-[r:HAS_ISSUE]->(i:Issue) "
    "RETURN p.product_id AS product_id, i.name AS issue, r.share AS share, r.reviews AS reviews "
    "ORDER BY product_id, issue"
)
FAILING_GUARDRAIL_QUERY = (
    "MATCH (p:Product) WHERE p.quality_score < $min_quality_score "
    "OR EXISTS { MATCH (p)-[r:HAS_ISSUE]->(:Issue) WHERE r.share >= $max_issue_share } "
    "RETURN p.product_id AS product_id ORDER BY product_id"
)


def ensure_issue_schema(driver: Driver, database: str) -> None:
    """The uniqueness constraint on Issue.name (IF NOT EXISTS), so MERGE on it is an index seek."""
    driver.execute_query(ISSUE_CONSTRAINT, database_=database)


def write_quality(driver: Driver, database: str, rows: pl.DataFrame, batch_size: int) -> dict[str, int]:
    """Write quality rows (product_id, quality_score, review_count, issues [{name, share, reviews}]) in
    batches; returns the products sent, issue edges written, and relationships created and deleted."""
    ensure_issue_schema(driver, database)
    totals = {"products": rows.height, "issue_edges": 0, "created": 0, "deleted": 0}
    for batch in G.row_batches("Product:quality", WRITE_QUALITY_QUERY, rows, batch_size):
        records, summary, _ = driver.execute_query(batch.query, batch.parameters, database_=database)
        totals["issue_edges"] += int(records[0]["written"]) if records else 0
        totals["created"] += summary.counters.relationships_created
        totals["deleted"] += summary.counters.relationships_deleted
    return totals


def read_issues(driver: Driver, database: str) -> pl.DataFrame:
    """product_id, issue, share, reviews of every HAS_ISSUE edge in the graph."""
    records, _, _ = driver.execute_query(ISSUES_QUERY, database_=database)
    rows: list[dict[str, Any]] = [dict(record) for record in records]
    return pl.DataFrame(
        rows,
        schema={"product_id": pl.String, "issue": pl.String, "share": pl.Float64, "reviews": pl.Int64},
        orient="row",
    )


def failing_guardrail(
    driver: Driver, database: str, min_quality_score: float, max_issue_share: float
) -> list[str]:
    """Ids of products rated below min_quality_score or with an issue share of at least max_issue_share."""
    records, _, _ = driver.execute_query(
        FAILING_GUARDRAIL_QUERY,
        {"min_quality_score": min_quality_score, "max_issue_share": max_issue_share},
        database_=database,
    )
    return [str(record["product_id"]) for record in records]
