"""Graph export: stream interactions, item edges and external triples from Neo4j into a digested snapshot."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl
from neo4j import Driver, ManagedTransaction, NotificationDisabledClassification

from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.adapters.lake import filesystem, lake_path, parquet_bytes, read_bytes, write_bytes, write_text
from shopgraph.domain import graph_rows as G
from shopgraph.errors import ShopgraphError
from shopgraph.settings import Settings

EXPORTS = "exports/graph"
MANIFEST = "manifest.json"
LATEST = "latest.json"  # beside the snapshots: which one the last export produced
TIMESTAMP = pl.Datetime("us", "UTC")
INTERACTION_TYPES = sorted(set(G.INTERACTION_TYPES.values()))


@dataclass(frozen=True)
class ExportTable:
    """One exported table: the nodes its rows hang off (`anchor`: variable and label), the pattern from one
    of them to its rows, the column expressions, column schema and sort key. Parameters only."""

    name: str
    anchor: tuple[str, str]
    pattern: str
    columns: tuple[str, ...]
    schema: dict[str, pl.DataType]
    sort: tuple[str, ...]

    def query(self) -> str:
        """Rows of `chunk` anchors per record: one record per row made the driver's per-record cost most
        of the export's time (about 5x on 50k attribute rows)."""
        variable, label = self.anchor
        return (
            f"MATCH ({variable}:{label}) WITH collect({variable}) AS anchors "
            "UNWIND range(0, size(anchors) - 1, $chunk) AS start "
            f"CALL (anchors, start) {{ UNWIND anchors[start..start + $chunk] AS {variable} {self.pattern} "
            f"RETURN collect([{', '.join(self.columns)}]) AS rows }} RETURN rows"
        )


EXPORT_TABLES: tuple[ExportTable, ...] = (
    ExportTable(
        "interactions",
        ("u", "User"),
        "MATCH (u)-[r]->(p:Product) WHERE type(r) IN $types",
        (
            "u.user_id",
            "p.product_id",
            "type(r)",
            "r.count",
            # Epoch microseconds: the driver unpacks integers far faster than DateTime values.
            "r.first_at.epochSeconds * 1000000 + r.first_at.microsecond",
            "r.last_at.epochSeconds * 1000000 + r.last_at.microsecond",
            "r.rating",
        ),
        {
            "user_id": pl.String(),
            "product_id": pl.String(),
            "interaction": pl.String(),
            "count": pl.Int64(),
            "first_at": TIMESTAMP,
            "last_at": TIMESTAMP,
            "rating": pl.Int64(),
        },
        ("user_id", "product_id", "interaction"),
    ),
    ExportTable(
        "products",
        ("p", "Product"),
        "",
        ("p.product_id", "p.active", "p.category_path", "p.price"),
        {
            "product_id": pl.String(),
            "active": pl.Boolean(),
            "category_path": pl.String(),
            "price": pl.Float64(),
        },
        ("product_id",),
    ),
    ExportTable(
        "item_brands",
        ("p", "Product"),
        "MATCH (p)-[:HAS_BRAND]->(b:Brand)",
        ("p.product_id", "b.name"),
        {"product_id": pl.String(), "brand": pl.String()},
        ("product_id", "brand"),
    ),
    ExportTable(
        "item_categories",
        ("p", "Product"),
        "MATCH (p)-[:IN_CATEGORY]->(c:Category)",
        ("p.product_id", "c.path"),
        {"product_id": pl.String(), "category_path": pl.String()},
        ("product_id", "category_path"),
    ),
    ExportTable(
        "category_parents",
        ("c", "Category"),
        "MATCH (c)-[:SUBCATEGORY_OF]->(parent:Category)",
        ("c.path", "parent.path"),
        {"category_path": pl.String(), "parent_path": pl.String()},
        ("category_path",),
    ),
    ExportTable(
        "item_attributes",
        ("p", "Product"),
        "MATCH (p)-[r:HAS_ATTRIBUTE]->(a:Attribute)",
        ("p.product_id", "a.type", "a.value", "r.source", "r.confidence"),
        {
            "product_id": pl.String(),
            "type": pl.String(),
            "value": pl.String(),
            "source": pl.String(),
            "confidence": pl.Float64(),
        },
        ("product_id", "type", "value"),
    ),
    ExportTable(
        "item_entities",
        ("p", "Product"),
        "MATCH (p)-[:LINKED_TO]->(e:Entity)",
        ("p.product_id", "e.entity_id"),
        {"product_id": pl.String(), "entity_id": pl.String()},
        ("product_id", "entity_id"),
    ),
    ExportTable(
        "kg_triples",
        ("h", "Entity"),
        "MATCH (h)-[r:RELATED]->(t:Entity)",
        ("h.entity_id", "r.relation", "t.entity_id"),
        {"head_id": pl.String(), "relation": pl.String(), "tail_id": pl.String()},
        ("head_id", "relation", "tail_id"),
    ),
)


def export_table_names() -> list[str]:
    """The names of the tables every snapshot holds (one <name>.parquet each)."""
    return [table.name for table in EXPORT_TABLES]


@dataclass(frozen=True)
class ExportResult:
    """Where a snapshot is, its content digest, and rows per table."""

    path: str
    digest: str
    rows: dict[str, int]
    reused: bool


def stream_table(driver: Driver, database: str, table: ExportTable, chunk_size: int) -> pl.DataFrame:
    """Run one export query in a read transaction, the rows of chunk_size anchor nodes per record, sorted
    by the table's key."""
    wire = {
        name: pl.Int64() if isinstance(dtype, pl.Datetime) else dtype for name, dtype in table.schema.items()
    }

    def read(tx: ManagedTransaction) -> list[pl.DataFrame]:
        result = tx.run(table.query(), {"types": INTERACTION_TYPES, "chunk": chunk_size})
        return [_frame(record["rows"], wire) for record in result]

    # An export of a graph without imported triples reads relationship types that do not exist yet: expected.
    with driver.session(
        database=database,
        fetch_size=1,
        notifications_disabled_classifications=[NotificationDisabledClassification.UNRECOGNIZED],
    ) as session:
        chunks = session.execute_read(read)
    times = [name for name, dtype in table.schema.items() if isinstance(dtype, pl.Datetime)]
    frame = pl.concat([_frame([], wire), *chunks]).with_columns(
        pl.from_epoch(name, "us").dt.replace_time_zone("UTC") for name in times
    )
    return frame.sort(list(table.sort))


def _frame(rows: list[list[Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def snapshot_digest(files: dict[str, bytes]) -> str:
    """sha256 over the table names and Parquet bytes, in name order."""
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(hashlib.sha256(files[name]).digest())
    return digest.hexdigest()


def export_graph(
    driver: Driver,
    database: str,
    lake: str,
    chunk_size: int = 2_000,
    on_table: Callable[[str, int], None] | None = None,
) -> ExportResult:
    """Write every export table under exports/graph/<digest>/ with a manifest.json written last.

    A snapshot with the same digest that already has its manifest is reused as it is.
    """
    files: dict[str, bytes] = {}
    rows: dict[str, int] = {}
    for table in EXPORT_TABLES:
        frame = stream_table(driver, database, table, chunk_size)
        files[f"{table.name}.parquet"] = parquet_bytes(frame)
        rows[table.name] = frame.height
        if on_table:
            on_table(table.name, frame.height)
    digest = snapshot_digest(files)
    folder = lake_path(lake, EXPORTS, digest[:16])
    manifest = lake_path(folder, MANIFEST)
    fs, target = filesystem(manifest)
    latest = json.dumps({"path": folder, "digest": digest})
    if fs.exists(target) and json.loads(read_bytes(manifest)).get("digest") == digest:
        write_text(lake_path(lake, EXPORTS, LATEST), latest)
        return ExportResult(folder, digest, rows, reused=True)
    for name, data in files.items():
        write_bytes(lake_path(folder, name), data)
    write_text(manifest, json.dumps({"digest": digest, "rows": rows, "files": sorted(files)}, indent=2))
    write_text(lake_path(lake, EXPORTS, LATEST), latest)
    return ExportResult(folder, digest, rows, reused=False)


def export_from_settings(settings: Settings) -> ExportResult:
    """export_graph from the configured Neo4j into the configured lake, graph.export_chunk_size nodes per
    record."""
    with neo4j_driver(settings) as driver:
        database, lake = settings.neo4j.database, settings.lake_root
        return export_graph(driver, database, lake, settings.graph.export_chunk_size)


class ExportMissingError(ShopgraphError):
    """There is no (complete) graph export where one was asked for; the message names the path."""


def latest_snapshot(lake: str) -> str:
    """The folder of the last graph export (exports/graph/latest.json)."""
    pointer = lake_path(lake, EXPORTS, LATEST)
    fs, target = filesystem(pointer)
    if not fs.exists(target):
        raise ExportMissingError(f"{pointer}: no graph export yet; run `shopgraph graph` (it exports) first")
    return str(json.loads(read_bytes(pointer))["path"])
