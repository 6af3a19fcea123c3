"""Graph loader: curated lake partitions into Neo4j with batched UNWIND/MERGE, incremental by manifest."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import polars as pl
from neo4j import Driver

from shopgraph.adapters.lake import (
    filesystem,
    lake_path,
    partition_day,
    partition_files,
    read_bytes,
    read_parquet_schema,
    read_parts,
    relative_path,
    write_text,
)
from shopgraph.domain import graph_rows as G
from shopgraph.domain.dates import partition_name
from shopgraph.domain.similarity import refresh_targets, similar_product_rows
from shopgraph.schemas import landing as L
from shopgraph.schemas.lake_layout import (
    CHANGES,
    CURATED,
    CURRENT_PRODUCTS,
    PRODUCT_ATTRIBUTES,
    PRODUCT_EMBEDDINGS,
)
from shopgraph.settings import Settings

MANIFESTS = "manifests/graph"
# Partitioned curated inputs of one day: (name, path under curated/ without the dt folder).
DAY_TABLES: tuple[tuple[str, str], ...] = (
    (L.PRODUCTS, f"{L.PRODUCTS}/{CHANGES}"),
    (L.USERS, f"{L.USERS}/{CHANGES}"),
    (L.EVENTS, L.EVENTS),
    (L.KG_TRIPLES, L.KG_TRIPLES),
    (L.ENTITY_LINKS, L.ENTITY_LINKS),
)


@dataclass
class WriteStats:
    """Counters for one label or relationship type: rows sent and what Neo4j reported doing."""

    rows_in: int = 0
    written: int = 0
    nodes_created: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_deleted: int = 0
    properties_set: int = 0
    batches: int = 0
    seconds: float = 0.0


@dataclass
class LoadReport:
    """Per label/type write statistics of one or more loaded days, with skipped days and duration."""

    days: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    stats: dict[str, WriteStats] = field(default_factory=dict)
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, name: str, rows: int, written: int, counters: Any) -> None:
        """Count one committed batch (thread-safe: parallel writers share the report)."""
        with self._lock:
            entry = self.stats.setdefault(name, WriteStats())
            entry.rows_in += rows
            entry.written += written
            entry.nodes_created += counters.nodes_created
            entry.nodes_deleted += counters.nodes_deleted
            entry.relationships_created += counters.relationships_created
            entry.relationships_deleted += counters.relationships_deleted
            entry.properties_set += counters.properties_set
            entry.batches += 1

    def add_seconds(self, name: str, seconds: float) -> None:
        """Wall time spent writing one frame of `name` (with parallel writers, not their sum)."""
        with self._lock:
            self.stats.setdefault(name, WriteStats()).seconds += seconds

    def merge(self, other: LoadReport) -> None:
        self.days += other.days
        self.skipped += other.skipped
        self.seconds += other.seconds
        for name, theirs in other.stats.items():
            mine = self.stats.setdefault(name, WriteStats())
            for key, value in asdict(theirs).items():
                setattr(mine, key, getattr(mine, key) + value)

    def total(self, kind: str) -> int:
        """Rows written for node labels ('nodes') or relationship types ('relationships')."""
        names = G.NODE_LABELS if kind == "nodes" else G.RELATIONSHIP_TYPES
        return sum(stat.written for name, stat in self.stats.items() if name.split(":")[0] in names)

    def table_rows(self) -> list[dict[str, Any]]:
        """One row per label or type: rows in, written, created, deleted, properties set, seconds, rate."""
        rows = []
        for name, stat in sorted(self.stats.items()):
            created = stat.nodes_created + stat.relationships_created
            rows.append(
                {
                    "name": name,
                    "rows_in": stat.rows_in,
                    "written": stat.written,
                    "created": created,
                    "updated": max(stat.written - created, 0),
                    "deleted": stat.nodes_deleted + stat.relationships_deleted,
                    "properties_set": stat.properties_set,
                    "seconds": round(stat.seconds, 3),
                    "rows_per_s": round(stat.rows_in / stat.seconds) if stat.seconds else 0,
                }
            )
        return rows

    def to_json(self) -> dict[str, Any]:
        return {
            "days": self.days,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
            "stats": {name: asdict(stat) for name, stat in sorted(self.stats.items())},
        }


@dataclass(frozen=True)
class DayInputs:
    """Everything one day's load reads: change sets, facts, imported triples, enrichment snapshots."""

    day: date
    products: pl.DataFrame | None = None
    users: pl.DataFrame | None = None
    events: pl.DataFrame | None = None
    triples: pl.DataFrame | None = None
    links: pl.DataFrame | None = None
    attributes: pl.DataFrame | None = None
    embeddings: pl.DataFrame | None = None
    live_product_ids: pl.Series | None = None
    digests: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadOptions:
    """Knobs of a load: rows per transaction, SIMILAR_TO fan-out, similarity block, full refresh, and
    how many writers upsert nodes at once."""

    batch_size: int = 5000
    top_k: int = 10
    block_size: int = 1024
    full_similarity: bool = False
    writers: int = 2

    @classmethod
    def from_settings(cls, settings: Settings, full_similarity: bool = False) -> LoadOptions:
        """The knobs of the `graph:` settings."""
        graph = settings.graph
        return cls(
            graph.batch_size, graph.similar_top_k, graph.similarity_block_size, full_similarity, graph.writers
        )


def write_frame(
    driver: Driver,
    database: str,
    report: LoadReport,
    name: str,
    query: str,
    rows: pl.DataFrame,
    batch_size: int,
    writers: int = 1,
    key: str | None = None,
) -> None:
    """Send rows in batches through execute_query (a managed transaction retried on transient errors).

    By default batches run one after another from a single writer, so two of our transactions never
    lock the same nodes in opposite orders (no deadlocks). Node upserts that touch only the node of
    their own row pass its `key` column: the rows are then split by key among `writers` writers that
    run at once, so every node is written by one writer only and no two transactions want the same lock.
    """
    started = time.perf_counter()
    parts = G.key_partitions(rows, key, writers) if key is not None else [rows]

    def write_part(part: pl.DataFrame) -> None:
        for batch in G.row_batches(name, query, part, batch_size):
            records, summary, _ = driver.execute_query(batch.query, batch.parameters, database_=database)
            written = int(records[0]["written"]) if records else 0
            report.add(name, len(batch.rows), written, summary.counters)

    if len(parts) == 1:
        write_part(parts[0])
    else:
        with ThreadPoolExecutor(len(parts), thread_name_prefix=f"graph-writer-{name}") as pool:
            for done in [pool.submit(write_part, part) for part in parts]:
                done.result()
    report.add_seconds(name, time.perf_counter() - started)


def load_day(driver: Driver, database: str, inputs: DayInputs, options: LoadOptions) -> LoadReport:
    """Write one day's inputs: every node first, then tombstones, relationships, embeddings, SIMILAR_TO.

    Products are upserted (older versions never overwrite newer ones) and tombstoned products turn
    inactive (see docs/graph-model.md); deleted users go with their interactions; a changed product's
    HAS_ATTRIBUTE set is replaced so stale edges go.
    """
    started = time.perf_counter()
    report = LoadReport(days=[inputs.day.isoformat()])
    size = options.batch_size

    def write(name: str, query: str, rows: pl.DataFrame, key: str | None = None) -> None:
        if rows.height:
            write_frame(driver, database, report, name, query, rows, size, options.writers, key)

    products = inputs.products
    changed = changed_products(inputs)
    attributes = attributes_for(inputs, changed)
    triples = inputs.triples if inputs.triples is not None else _empty_triples()
    links = (
        inputs.links
        if inputs.links is not None
        else pl.DataFrame(schema={L.PRODUCT_ID: pl.String, L.ENTITY_ID: pl.String})
    )
    # Nodes.
    if products is not None:
        write(G.BRAND, G.merge_nodes_query(G.BRAND), G.brand_node_rows(products))
        categories = G.category_node_rows(products)
        write(G.CATEGORY, G.merge_nodes_query(G.CATEGORY, (G.NAME, G.DEPTH)), categories.drop(G.PARENT_PATH))
        write(G.ATTRIBUTE, G.merge_nodes_query(G.ATTRIBUTE), G.attribute_node_rows(attributes))
        write(
            G.PRODUCT,
            G.upsert_versioned_query(G.PRODUCT, G.PRODUCT_PROPERTIES),
            G.product_node_rows(products),
            L.PRODUCT_ID,
        )
    if inputs.users is not None:
        write(
            G.USER,
            G.upsert_versioned_query(G.USER, G.USER_PROPERTIES),
            G.user_node_rows(inputs.users),
            L.USER_ID,
        )
    write(G.ENTITY, G.merge_nodes_query(G.ENTITY), G.entity_node_rows(triples, links), G.ENTITY_ID)
    # Tombstones.
    if products is not None:
        write(
            f"{G.PRODUCT}:deactivated",
            G.deactivate_products_query(),
            G.tombstone_rows(products, L.PRODUCT_ID),
        )
    if inputs.users is not None:
        write(f"{G.USER}:deleted", G.delete_users_query(), G.tombstone_rows(inputs.users, L.USER_ID))
    # Relationships.
    if products is not None:
        write(G.SUBCATEGORY_OF, G.merge_subcategory_query(), categories.drop_nulls(G.PARENT_PATH))
        write(
            G.HAS_BRAND,
            G.replace_single_edge_query(G.HAS_BRAND, G.BRAND, L.BRAND),
            G.product_edge_rows(products, L.BRAND),
        )
        write(
            G.IN_CATEGORY,
            G.replace_single_edge_query(G.IN_CATEGORY, G.CATEGORY, L.CATEGORY_PATH),
            G.product_edge_rows(products, L.CATEGORY_PATH),
        )
        write(G.HAS_ATTRIBUTE, G.replace_attributes_query(), G.attribute_set_rows(attributes, changed))
    if inputs.events is not None:
        for rel_type, rows in G.interaction_rows(inputs.events, inputs.day).items():
            write(rel_type, G.merge_interactions_query(rel_type), rows)
    write(
        G.RELATED,
        G.merge_edges_query(G.RELATED, G.ENTITY, G.HEAD, G.ENTITY, G.TAIL, data_key=G.RELATION),
        G.triple_rows(triples),
    )
    write(
        G.LINKED_TO,
        G.merge_edges_query(G.LINKED_TO, G.PRODUCT, L.PRODUCT_ID, G.ENTITY, G.ENTITY_ID),
        links.select(L.PRODUCT_ID, G.ENTITY_ID).drop_nulls().unique().sort(L.PRODUCT_ID, G.ENTITY_ID),
    )
    # Embeddings, then SIMILAR_TO for every product whose top-k the changes can move.
    if inputs.embeddings is not None:
        embeddings = inputs.embeddings
        if inputs.live_product_ids is not None:
            embeddings = embeddings.filter(pl.col(L.PRODUCT_ID).is_in(inputs.live_product_ids.implode()))
        targets = embeddings.get_column(L.PRODUCT_ID) if options.full_similarity else changed
        write(
            "Product:embedding",
            G.set_embeddings_query(),
            G.embedding_rows(embeddings, targets),
            L.PRODUCT_ID,
        )
        refresh_similar(driver, database, report, embeddings, changed, options)
    report.seconds = time.perf_counter() - started
    return report


def refresh_similar(
    driver: Driver,
    database: str,
    report: LoadReport,
    embeddings: pl.DataFrame,
    changed: pl.Series,
    options: LoadOptions,
) -> None:
    """Recompute SIMILAR_TO for the products the changes affect, among the active embedded products."""
    active = _column(driver, database, ACTIVE_EMBEDDED_QUERY, {})
    keys = embeddings.filter(pl.col(L.PRODUCT_ID).is_in(active.implode()))
    if options.full_similarity:
        targets = keys.get_column(L.PRODUCT_ID)
    else:
        records, _, _ = driver.execute_query(SIMILAR_STATE_QUERY, database_=database)
        current = pl.DataFrame(
            [dict(record) for record in records],
            schema={L.PRODUCT_ID: pl.String, "low": pl.Float64, "n": pl.Int64},
        )
        pointing = _column(driver, database, POINTING_AT_QUERY, {"ids": changed.to_list()})
        targets = refresh_targets(
            keys, changed, current, pointing, options.top_k, block_size=options.block_size
        )
    similar = similar_product_rows(keys, targets, options.top_k, block_size=options.block_size)
    rows = similar.with_columns(pl.lit(embeddings_model_version(keys)).alias("model_version"))
    if rows.height:
        write_frame(
            driver, database, report, G.SIMILAR_TO, G.replace_similar_query(), rows, options.batch_size
        )


ACTIVE_EMBEDDED_QUERY = (
    # embedding_model is set and removed with the vector; testing it avoids reading every vector.
    "MATCH (p:Product) WHERE p.active AND p.embedding_model IS NOT NULL RETURN p.product_id AS product_id"
)
SIMILAR_STATE_QUERY = (
    "MATCH (p:Product)-[s:SIMILAR_TO]->() "
    "RETURN p.product_id AS product_id, min(s.score) AS low, count(s) AS n"
)
POINTING_AT_QUERY = (
    "UNWIND $ids AS id MATCH (q:Product)-[:SIMILAR_TO]->(:Product {product_id: id}) "
    "RETURN DISTINCT q.product_id AS product_id"
)


def _column(driver: Driver, database: str, query: str, parameters: dict[str, Any]) -> pl.Series:
    records, _, _ = driver.execute_query(query, parameters, database_=database)
    return pl.Series(L.PRODUCT_ID, [record[L.PRODUCT_ID] for record in records], dtype=pl.String)


def changed_products(inputs: DayInputs) -> pl.Series:
    """Ids of the day's live (not tombstoned) product rows; empty without a products change set."""
    if inputs.products is None:
        return pl.Series([], dtype=pl.String)
    return G.live_rows(inputs.products).get_column(L.PRODUCT_ID).unique()


def attributes_for(inputs: DayInputs, changed: pl.Series) -> pl.DataFrame:
    """Attributes of the changed products: enriched ones where enrichment has the product, else catalog ones.

    Falling back per product keeps a product that enrichment has not reached yet from losing its edges.
    """
    columns = [L.PRODUCT_ID, G.TYPE, G.VALUE, G.SOURCE, pl.col(G.CONFIDENCE).cast(pl.Float64)]
    catalog = (
        G.catalog_attribute_rows(inputs.products).select(columns)
        if inputs.products is not None
        else pl.DataFrame(
            schema={
                L.PRODUCT_ID: pl.String,
                G.TYPE: pl.String,
                G.VALUE: pl.String,
                G.SOURCE: pl.String,
                G.CONFIDENCE: pl.Float64,
            }
        )
    )
    if inputs.attributes is None:
        return catalog
    enriched = inputs.attributes.filter(pl.col(L.PRODUCT_ID).is_in(changed.implode())).select(columns)
    known = enriched.get_column(L.PRODUCT_ID).unique().implode()
    return pl.concat([enriched, catalog.filter(~pl.col(L.PRODUCT_ID).is_in(known))])


def _empty_triples() -> pl.DataFrame:
    return pl.DataFrame(schema={L.HEAD_ENTITY: pl.String, L.RELATION: pl.String, L.TAIL_ENTITY: pl.String})


def embeddings_model_version(embeddings: pl.DataFrame) -> str:
    versions = embeddings.get_column("model_version").unique().sort().to_list() if embeddings.height else []
    return ",".join(str(version) for version in versions)


# ---------------------------------------------------------------- lake side: inputs, manifests


def day_partition(lake: str, table_path: str, day: date) -> str:
    """curated/<table_path>/dt=YYYY-MM-DD under the lake root."""
    return lake_path(lake, CURATED, table_path, partition_name(day))


def _read_files(lake: str, files: list[str], digests: dict[str, str]) -> pl.DataFrame | None:
    if not files:
        return None
    frames = []
    for path in files:
        data = read_bytes(path)
        digests[relative_path(lake, path)] = hashlib.sha256(data).hexdigest()
        frames.append(pl.read_parquet(io.BytesIO(data)))
    return pl.concat(frames, how="vertical_relaxed")


def _snapshot(lake: str, folder: tuple[str, ...]) -> pl.DataFrame | None:
    return read_parts(partition_files(lake_path(lake, *folder)))


def read_day_inputs(lake: str, day: date) -> DayInputs:
    """Read one day's curated partitions and the enrichment snapshots; digests of the day's files."""
    digests: dict[str, str] = {}
    frames = {
        name: _read_files(lake, partition_files(day_partition(lake, path, day)), digests)
        for name, path in DAY_TABLES
    }
    current = _snapshot(lake, CURRENT_PRODUCTS)
    return DayInputs(
        day=day,
        products=frames[L.PRODUCTS],
        users=frames[L.USERS],
        events=frames[L.EVENTS],
        triples=frames[L.KG_TRIPLES],
        links=frames[L.ENTITY_LINKS],
        attributes=_snapshot(lake, PRODUCT_ATTRIBUTES),
        embeddings=_snapshot(lake, PRODUCT_EMBEDDINGS),
        live_product_ids=current.get_column(L.PRODUCT_ID) if current is not None else None,
        digests=digests,
    )


def day_digests(lake: str, day: date) -> dict[str, str]:
    """sha256 of every curated file of one day, by path relative to the lake root."""
    digests: dict[str, str] = {}
    for _, path in DAY_TABLES:
        for file in partition_files(day_partition(lake, path, day)):
            digests[relative_path(lake, file)] = hashlib.sha256(read_bytes(file)).hexdigest()
    return digests


def curated_days(lake: str) -> list[date]:
    """Every day that has a curated partition of a table the graph reads, oldest first."""
    fs, root = filesystem(lake_path(lake, CURATED))
    found: set[date] = set()
    for _, path in DAY_TABLES:
        for folder in fs.glob(f"{root.rstrip('/')}/{path}/dt=*"):
            found.add(partition_day(folder))
    return sorted(found)


def embedding_dimension(lake: str) -> int | None:
    """The width of the enriched product embeddings (from a Parquet footer), None before enrichment."""
    files = partition_files(lake_path(lake, *PRODUCT_EMBEDDINGS))
    if not files:
        return None
    field_type = pl.Schema(read_parquet_schema(files[0])).get("embedding")
    if isinstance(field_type, pl.Array):
        return int(field_type.size)
    frame = pl.read_parquet(io.BytesIO(read_bytes(files[0]))).head(1)
    return len(frame.get_column("embedding")[0]) if frame.height else None


def manifest_path(lake: str, day: date) -> str:
    """manifests/graph/dt=YYYY-MM-DD.json under the lake root."""
    return lake_path(lake, MANIFESTS, f"{partition_name(day)}.json")


def read_manifest(lake: str, day: date) -> dict[str, Any] | None:
    """The load manifest of a day, None when the day was never loaded completely."""
    path = manifest_path(lake, day)
    fs, target = filesystem(path)
    if not fs.exists(target):
        return None
    loaded: dict[str, Any] = json.loads(read_bytes(path))
    return loaded


def write_manifest(lake: str, day: date, digests: dict[str, str], report: LoadReport) -> str:
    """Record a completed load: the input digests it read and what it wrote (written last, atomically)."""
    body = {
        "day": day.isoformat(),
        "inputs": dict(sorted(digests.items())),
        "loaded_at": datetime.now(UTC).isoformat(),
        "report": report.to_json(),
    }
    return write_text(manifest_path(lake, day), json.dumps(body, indent=2, sort_keys=True))


def days_to_load(lake: str, days: Iterable[date], *, force: bool = False) -> list[date]:
    """The days whose curated files differ from their manifest (or have none); all of them with force."""
    pending = []
    for day in days:
        manifest = read_manifest(lake, day)
        if force or manifest is None or manifest.get("inputs") != day_digests(lake, day):
            pending.append(day)
    return pending


def load_days(
    driver: Driver,
    database: str,
    lake: str,
    days: Iterable[date],
    options: LoadOptions,
    *,
    force: bool = False,
) -> LoadReport:
    """Load each changed day in order and write its manifest after it succeeds; unchanged days are skipped."""
    started = time.perf_counter()
    wanted = list(days)
    pending = days_to_load(lake, wanted, force=force)
    total = LoadReport(skipped=[day.isoformat() for day in wanted if day not in pending])
    for day in pending:
        inputs = read_day_inputs(lake, day)
        report = load_day(driver, database, inputs, options)
        write_manifest(lake, day, inputs.digests, report)
        total.merge(report)
    total.seconds = time.perf_counter() - started
    return total


def graph_counts(driver: Driver, database: str) -> dict[str, int]:
    """Nodes per label and relationships per type currently in the graph."""
    counts: dict[str, int] = dict.fromkeys(sorted(G.NODE_LABELS | G.RELATIONSHIP_TYPES), 0)
    records, _, _ = driver.execute_query(
        "MATCH (n) UNWIND labels(n) AS name RETURN name, count(*) AS n", database_=database
    )
    records += driver.execute_query(
        "MATCH ()-[r]->() RETURN type(r) AS name, count(*) AS n", database_=database
    ).records
    for record in records:
        counts[str(record["name"])] = int(record["n"])
    return counts
