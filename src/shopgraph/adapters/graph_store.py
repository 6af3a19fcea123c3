"""Neo4j access: a driver built from settings, connection errors turned into one clear line."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, ServiceUnavailable

from shopgraph.services.process import ServiceError
from shopgraph.settings import Settings

MARKER_QUERY = (
    "MERGE (m:SmokeMarker {run_id: $run_id}) "
    "SET m.partition = $partition, m.rows = $rows, m.written_at = $written_at "
    "RETURN m.run_id AS run_id"
)


def neo4j_auth(settings: Settings) -> tuple[str, str]:
    """User and password: from settings when given, else the generated local password file."""
    from shopgraph.services.neo4j_server import neo4j_password

    return settings.neo4j.user, neo4j_password(settings)


@contextmanager
def neo4j_driver(settings: Settings) -> Iterator[Driver]:
    """A verified driver for the configured server; ServiceError with a fix when it cannot connect."""
    uri = settings.neo4j.uri
    driver = GraphDatabase.driver(uri, auth=neo4j_auth(settings))
    try:
        driver.verify_connectivity()
    except AuthError as exc:
        driver.close()
        raise ServiceError(
            f"Neo4j at {uri}: authentication failed for user {settings.neo4j.user!r}: "
            "check SHOPGRAPH_NEO4J__PASSWORD or .local/neo4j/password"
        ) from exc
    except (ServiceUnavailable, OSError) as exc:
        driver.close()
        raise ServiceError(
            f"Neo4j at {uri} is unreachable: run `shopgraph services up` or point SHOPGRAPH_NEO4J__URI "
            "at a running server"
        ) from exc
    try:
        yield driver
    finally:
        driver.close()


def write_marker_node(driver: Driver, database: str, *, run_id: str, partition: str, rows: int) -> str:
    """MERGE a (:SmokeMarker) node keyed by run_id; returns the run_id read back from the graph."""
    params: dict[str, Any] = {
        "run_id": run_id,
        "partition": partition,
        "rows": rows,
        "written_at": datetime.now(UTC).isoformat(),
    }
    records, _, _ = driver.execute_query(MARKER_QUERY, params, database_=database)
    return str(records[0]["run_id"])
