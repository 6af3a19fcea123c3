"""Concurrency tags: one Neo4j writer and one GPU task at a time across every flow run on the server."""

from __future__ import annotations

# Prefect holds a task with one of these tags until a slot of the tag's concurrency limit is free; the
# limits themselves (prefect.concurrency_limits, 1 each by default) are created by `shopgraph services up`.
NEO4J_WRITER = "shopgraph-neo4j-writer"
GPU = "shopgraph-gpu"
