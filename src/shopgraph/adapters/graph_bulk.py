"""Graph bulk load: curated days folded into their final graph, written as CSV and imported by neo4j-admin."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from shopgraph.adapters.graph_loader import (
    MANIFESTS,
    LoadOptions,
    LoadReport,
    WriteStats,
    attributes_for,
    changed_products,
    day_digests,
    embeddings_model_version,
    read_day_inputs,
    write_manifest,
)
from shopgraph.adapters.graph_schema import apply_configured_schema
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.adapters.lake import lake_path, remove_tree
from shopgraph.domain import graph_rows as G
from shopgraph.domain.similarity import similar_product_rows
from shopgraph.schemas import landing as L
from shopgraph.services.neo4j_server import (
    ADMIN_CLASS,
    java_executable,
    neo4j_layout,
    neo4j_process_env,
    start_neo4j,
    stop_neo4j,
)
from shopgraph.services.process import ServiceError
from shopgraph.settings import Settings

ARRAY_DELIMITER = ";"
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.6fZ"
EMBEDDING = "embedding"
CONTENT_HASH = "content_hash"
MODEL_VERSION = "model_version"
EMBEDDING_MODEL = "embedding_model"
ACTIVE = "active"
DELETED_AT = "deleted_at"
# Product columns beyond its properties: the targets of its single HAS_BRAND and IN_CATEGORY edges.
BRAND_TARGET = "_brand"
CATEGORY_TARGET = "_category"
SEQ = "_seq"
# neo4j-admin header types of the typed columns; every other column is a string.
COLUMN_TYPES: dict[str, str] = {
    L.PRICE: "double",
    L.UPDATED_AT: "datetime",
    L.SIGNUP_AT: "datetime",
    DELETED_AT: "datetime",
    ACTIVE: "boolean",
    L.MARKETING_OPT_IN: "boolean",
    EMBEDDING: "float[]",
    G.DEPTH: "long",
    G.CONFIDENCE: "double",
    "days": "date[]",
    "day_counts": "long[]",
    G.COUNT: "long",
    G.FIRST_AT: "datetime",
    G.LAST_AT: "datetime",
    L.RATING: "long",
    "rated_at": "datetime",
    "score": "double",
    "rank": "long",
}


@dataclass
class BulkReport(LoadReport):
    """A LoadReport of one import: seconds spent folding inputs into CSV, importing, restarting, indexing."""

    fold_seconds: float = 0.0
    import_seconds: float = 0.0
    restart_seconds: float = 0.0
    schema_seconds: float = 0.0
    # neo4j-admin's own stages ("Node import", "Relationship import", ...) and their seconds.
    import_stages: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        phases = ("fold_seconds", "import_seconds", "restart_seconds", "schema_seconds")
        return (
            super().to_json()
            | {phase: round(getattr(self, phase), 3) for phase in phases}
            | {"import_stages": self.import_stages}
        )


STAGE_LINE = re.compile(r"^(?P<stage>[A-Z][A-Za-z ]+?) COMPLETED in (?P<duration>(?:\d+[a-z]+ ?)+)\s*$")
DURATION_PART = re.compile(r"(\d+)(ms|s|m|h)")
UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def import_stage_seconds(output: str) -> dict[str, float]:
    """Seconds of each stage neo4j-admin import reports ("Node import COMPLETED in 1m 2s 355ms")."""
    stages: dict[str, float] = {}
    for line in output.splitlines():
        match = STAGE_LINE.match(line.strip())
        if match:
            parts = DURATION_PART.findall(match["duration"])
            stages[match["stage"]] = round(sum(int(n) * UNIT_SECONDS[unit] for n, unit in parts), 3)
    return stages


@dataclass
class GraphState:
    """The graph the incremental loader would leave after the folded days, as frames per label and type.

    products (with their HAS_BRAND and IN_CATEGORY targets and vectors) and users hold one row per node;
    the sets hold nodes and edges that are only ever merged; attribute_sets the current HAS_ATTRIBUTE set
    per product; interactions one frame per (type, day) loaded, rows removed with a deleted user;
    embeddings the enrichment snapshot the last day read (SIMILAR_TO comes from it at the end).
    """

    products: pl.DataFrame
    users: pl.DataFrame
    brands: set[str] = field(default_factory=set)
    categories: dict[str, tuple[str, int]] = field(default_factory=dict)
    subcategories: set[tuple[str, str]] = field(default_factory=set)
    attributes: set[tuple[str, str]] = field(default_factory=set)
    attribute_sets: pl.DataFrame | None = None
    entities: set[str] = field(default_factory=set)
    related: set[tuple[str, str, str]] = field(default_factory=set)
    linked: set[tuple[str, str]] = field(default_factory=set)
    interactions: list[pl.DataFrame] = field(default_factory=list)
    embeddings: pl.DataFrame | None = None
    seq: int = 0


def _empty_products() -> pl.DataFrame:
    schema = {L.PRODUCT_ID: pl.String(), **{p: L.PRODUCTS_SCHEMA[p] for p in G.PRODUCT_PROPERTIES}}
    schema |= {
        ACTIVE: pl.Boolean(),
        DELETED_AT: L.TIMESTAMP,
        BRAND_TARGET: pl.String(),
        CATEGORY_TARGET: pl.String(),
        CONTENT_HASH: pl.String(),
        EMBEDDING_MODEL: pl.String(),
        EMBEDDING: pl.List(pl.Float32),
    }
    return pl.DataFrame(schema=schema)


def _empty_users() -> pl.DataFrame:
    schema = {
        L.USER_ID: pl.String(),
        **{p: L.USERS_SCHEMA[p] for p in G.USER_PROPERTIES},
        ACTIVE: pl.Boolean(),
    }
    return pl.DataFrame(schema=schema)


def _upsert(state: pl.DataFrame, rows: pl.DataFrame, key: str, properties: tuple[str, ...]) -> pl.DataFrame:
    """upsert_versioned_query on frames: a row not older than the node sets its properties and active.

    Several rows of one key in a batch leave the newest (the later one of equal updated_at).
    """
    if rows.is_empty():
        return state
    newest = (
        rows.with_row_index(SEQ)
        .sort([key, L.UPDATED_AT, SEQ])
        .unique(key, keep="last", maintain_order=True)
        .drop(SEQ)
    )
    joined = state.join(newest, on=key, how="full", suffix="_new", coalesce=True)
    new_at = pl.col(f"{L.UPDATED_AT}_new")
    take = new_at.is_not_null() & (pl.col(L.UPDATED_AT).is_null() | (pl.col(L.UPDATED_AT) <= new_at))
    updates = [pl.when(take).then(pl.col(f"{p}_new")).otherwise(pl.col(p)).alias(p) for p in properties]
    updates.append(pl.when(take).then(True).otherwise(pl.col(ACTIVE)).alias(ACTIVE))
    if DELETED_AT in state.columns:
        updates.append(pl.when(take).then(None).otherwise(pl.col(DELETED_AT)).alias(DELETED_AT))
    return joined.with_columns(updates).select(state.columns)


def _winning_tombstones(state: pl.DataFrame, rows: pl.DataFrame, key: str) -> pl.DataFrame:
    """key and updated_at of the tombstones that apply: the node exists and is not newer than the latest."""
    latest = rows.group_by(key).agg(pl.col(L.UPDATED_AT).max().alias("_at"))
    return (
        state.select(key, L.UPDATED_AT)
        .join(latest, on=key, how="inner")
        .filter(pl.col(L.UPDATED_AT).is_null() | (pl.col(L.UPDATED_AT) <= pl.col("_at")))
        .select(key, "_at")
    )


def _deactivate(products: pl.DataFrame, rows: pl.DataFrame) -> pl.DataFrame:
    """deactivate_products_query on frames: inactive, deleted_at = updated_at = the tombstone, no vector."""
    gone = _winning_tombstones(products, rows, L.PRODUCT_ID)
    if gone.is_empty():
        return products
    joined = products.join(gone, on=L.PRODUCT_ID, how="left")
    hit = pl.col("_at").is_not_null()
    return joined.with_columns(
        pl.when(hit).then(False).otherwise(pl.col(ACTIVE)).alias(ACTIVE),
        pl.when(hit).then(pl.col("_at")).otherwise(pl.col(DELETED_AT)).alias(DELETED_AT),
        pl.when(hit).then(pl.col("_at")).otherwise(pl.col(L.UPDATED_AT)).alias(L.UPDATED_AT),
        *[pl.when(hit).then(None).otherwise(pl.col(c)).alias(c) for c in (CONTENT_HASH, EMBEDDING_MODEL)],
        pl.when(hit).then(None).otherwise(pl.col(EMBEDDING)).alias(EMBEDDING),
    ).select(products.columns)


def _replace_single_edge(
    products: pl.DataFrame, rows: pl.DataFrame, column: str, target: str
) -> pl.DataFrame:
    """replace_single_edge_query on frames: rows of the version the product holds set its one edge."""
    holding = (
        rows.join(products.select(L.PRODUCT_ID, L.UPDATED_AT), on=[L.PRODUCT_ID, L.UPDATED_AT], how="inner")
        .unique(L.PRODUCT_ID, keep="last", maintain_order=True)
        .select(L.PRODUCT_ID, pl.col(column).alias("_target"), pl.lit(True).alias("_hit"))
    )
    joined = products.join(holding, on=L.PRODUCT_ID, how="left")
    return joined.with_columns(
        pl.when(pl.col("_hit")).then(pl.col("_target")).otherwise(pl.col(target)).alias(target)
    ).select(products.columns)


def fold_day(state: GraphState, day: date, lake: str, options: LoadOptions) -> None:
    """Apply one day's inputs to the state in the order and with the rules of load_day."""
    inputs = read_day_inputs(lake, day)
    products = inputs.products
    changed = changed_products(inputs)
    attributes = attributes_for(inputs, changed)
    # Nodes.
    if products is not None:
        state.brands.update(G.brand_node_rows(products).get_column(G.NAME).to_list())
        categories = G.category_node_rows(products)
        for path, name, depth, parent in categories.iter_rows():
            state.categories[path] = (name, depth)
            if parent is not None:
                state.subcategories.add((path, parent))
        state.attributes.update(G.attribute_node_rows(attributes).iter_rows())
        state.products = _upsert(
            state.products, G.product_node_rows(products), L.PRODUCT_ID, (*G.PRODUCT_PROPERTIES,)
        )
    if inputs.users is not None:
        state.users = _upsert(state.users, G.user_node_rows(inputs.users), L.USER_ID, G.USER_PROPERTIES)
    triples = inputs.triples
    links = inputs.links
    empty_triples = pl.DataFrame(schema=dict.fromkeys((L.HEAD_ENTITY, L.RELATION, L.TAIL_ENTITY), pl.String))
    empty_links = pl.DataFrame(schema={L.PRODUCT_ID: pl.String, L.ENTITY_ID: pl.String})
    state.entities.update(
        G.entity_node_rows(
            triples if triples is not None else empty_triples, links if links is not None else empty_links
        )
        .get_column(G.ENTITY_ID)
        .to_list()
    )
    # Tombstones.
    if products is not None:
        state.products = _deactivate(state.products, G.tombstone_rows(products, L.PRODUCT_ID))
    if inputs.users is not None:
        gone = _winning_tombstones(state.users, G.tombstone_rows(inputs.users, L.USER_ID), L.USER_ID)
        if gone.height:
            ids = gone.get_column(L.USER_ID).implode()
            state.users = state.users.filter(~pl.col(L.USER_ID).is_in(ids))
            state.interactions = [rows.filter(~pl.col(L.USER_ID).is_in(ids)) for rows in state.interactions]
    # Relationships.
    if products is not None:
        state.products = _replace_single_edge(
            state.products, G.product_edge_rows(products, L.BRAND), L.BRAND, BRAND_TARGET
        )
        state.products = _replace_single_edge(
            state.products, G.product_edge_rows(products, L.CATEGORY_PATH), L.CATEGORY_PATH, CATEGORY_TARGET
        )
        sets = G.attribute_set_rows(attributes, changed)
        if state.attribute_sets is None:
            state.attribute_sets = sets
        else:
            kept = state.attribute_sets.filter(~pl.col(L.PRODUCT_ID).is_in(changed.implode()))
            state.attribute_sets = pl.concat([kept, sets], how="vertical_relaxed")
    if inputs.events is not None:
        users = state.users.select(L.USER_ID)
        known = state.products.select(L.PRODUCT_ID)
        for rel_type, rows in G.interaction_rows(inputs.events, day).items():
            if L.RATING not in rows.columns:
                rows = rows.with_columns(pl.lit(None, dtype=pl.Int64).alias(L.RATING))
            state.interactions.append(
                rows.join(users, on=L.USER_ID, how="semi")
                .join(known, on=L.PRODUCT_ID, how="semi")
                .select(
                    pl.lit(rel_type).alias(G.TYPE),
                    L.USER_ID,
                    L.PRODUCT_ID,
                    G.DAY,
                    G.COUNT,
                    G.FIRST_AT,
                    G.LAST_AT,
                    L.RATING,
                    pl.lit(state.seq).alias(SEQ),
                )
            )
            state.seq += 1
    if triples is not None:
        state.related.update(G.triple_rows(triples).iter_rows())
    if links is not None:
        existing = set(state.products.get_column(L.PRODUCT_ID).to_list())
        state.linked.update(
            (pid, eid)
            for pid, eid in links.select(L.PRODUCT_ID, G.ENTITY_ID).drop_nulls().iter_rows()
            if pid in existing
        )
    # Embeddings of the changed products that are active now.
    if inputs.embeddings is not None:
        embeddings = inputs.embeddings
        if inputs.live_product_ids is not None:
            embeddings = embeddings.filter(pl.col(L.PRODUCT_ID).is_in(inputs.live_product_ids.implode()))
        state.embeddings = embeddings
        targets = embeddings.get_column(L.PRODUCT_ID) if options.full_similarity else changed
        vectors = G.embedding_rows(embeddings, targets).rename(
            {MODEL_VERSION: "_model", CONTENT_HASH: "_hash", EMBEDDING: "_vector"}
        )
        joined = state.products.join(vectors, on=L.PRODUCT_ID, how="left")
        hit = pl.col("_model").is_not_null() & pl.col(ACTIVE)
        state.products = joined.with_columns(
            pl.when(hit).then(pl.col("_hash")).otherwise(pl.col(CONTENT_HASH)).alias(CONTENT_HASH),
            pl.when(hit).then(pl.col("_model")).otherwise(pl.col(EMBEDDING_MODEL)).alias(EMBEDDING_MODEL),
            pl.when(hit).then(pl.col("_vector")).otherwise(pl.col(EMBEDDING)).alias(EMBEDDING),
        ).select(state.products.columns)


def fold_days(lake: str, days: Iterable[date], options: LoadOptions) -> GraphState:
    """The final state after loading the days in the given order (each day once)."""
    state = GraphState(products=_empty_products(), users=_empty_users())
    for day in days:
        fold_day(state, day, lake, options)
    return state


def interaction_edges(state: GraphState) -> dict[str, pl.DataFrame]:
    """Per type: user_id, product_id, days, day_counts, count, first_at, last_at (RATED: rating, rated_at).

    As merge_interactions_query leaves them: days sorted, the rating of the latest last_at (the later
    load on ties) and rated_at the latest last_at.
    """
    if not state.interactions:
        return {}
    rows = pl.concat(state.interactions, how="vertical_relaxed")
    edges: dict[str, pl.DataFrame] = {}
    for rel_type in sorted(rows.get_column(G.TYPE).unique().to_list()):
        chosen = rows.filter(pl.col(G.TYPE) == rel_type).sort(G.DAY)
        aggregations = [
            pl.col(G.DAY).alias("days"),
            pl.col(G.COUNT).alias("day_counts"),
            pl.col(G.COUNT).sum().alias(G.COUNT),
            pl.col(G.FIRST_AT).min().alias(G.FIRST_AT),
            pl.col(G.LAST_AT).max().alias(G.LAST_AT),
        ]
        if rel_type == G.RATED:
            aggregations += [
                pl.col(L.RATING).sort_by([G.LAST_AT, SEQ]).last().alias(L.RATING),
                pl.col(G.LAST_AT).max().alias("rated_at"),
            ]
        edges[rel_type] = (
            chosen.group_by(L.USER_ID, L.PRODUCT_ID).agg(aggregations).sort(L.USER_ID, L.PRODUCT_ID)
        )
    return edges


def similar_edges(state: GraphState, options: LoadOptions) -> pl.DataFrame:
    """product_id, neighbour, score, rank, model_version: the top-k among the active embedded products."""
    schema = {
        L.PRODUCT_ID: pl.String,
        "neighbour": pl.String,
        "score": pl.Float64,
        "rank": pl.Int64,
        MODEL_VERSION: pl.String,
    }
    if state.embeddings is None:
        return pl.DataFrame(schema=schema)
    embedded = state.products.filter(pl.col(ACTIVE) & pl.col(EMBEDDING_MODEL).is_not_null())
    keys = state.embeddings.filter(pl.col(L.PRODUCT_ID).is_in(embedded.get_column(L.PRODUCT_ID).implode()))
    similar = similar_product_rows(
        keys, keys.get_column(L.PRODUCT_ID), options.top_k, block_size=options.block_size
    )
    if similar.is_empty():
        return pl.DataFrame(schema=schema)
    return (
        similar.explode("neighbours")
        .drop_nulls("neighbours")
        .select(
            L.PRODUCT_ID,
            pl.col("neighbours").struct.field(L.PRODUCT_ID).alias("neighbour"),
            pl.col("neighbours").struct.field("score").alias("score"),
            pl.col("neighbours").struct.field("rank").alias("rank"),
            pl.lit(embeddings_model_version(keys)).alias(MODEL_VERSION),
        )
    )


# ---------------------------------------------------------------- CSV files for neo4j-admin


def _csv_value(column: str, dtype: pl.DataType) -> pl.Expr:
    expr = pl.col(column)
    if isinstance(dtype, pl.Datetime):
        zoned = expr.dt.convert_time_zone("UTC") if dtype.time_zone else expr
        return zoned.dt.to_string(TIME_FORMAT)
    if isinstance(dtype, pl.List | pl.Array):
        return expr.cast(pl.List(pl.String)).list.join(ARRAY_DELIMITER)
    return expr


def write_csv(frame: pl.DataFrame, header: list[str], path: Path) -> int:
    """One neo4j-admin CSV file: the given header line, then the frame's columns in order."""
    plain = frame.select([_csv_value(name, dtype) for name, dtype in frame.schema.items()])
    path.write_text(",".join(header) + "\n" + plain.write_csv(include_header=False))
    return frame.height


def has_line_breaks(frame: pl.DataFrame) -> bool:
    """Whether any string cell of the frame holds a line break (a CSV field spanning lines)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    if not text or not frame.height:
        return False
    found = frame.select(pl.any_horizontal(pl.col(text).str.contains(r"[\r\n]").any()))
    return bool(found.item())


def _typed(columns: list[str]) -> list[str]:
    return [f"{name}:{COLUMN_TYPES[name]}" if name in COLUMN_TYPES else name for name in columns]


@dataclass(frozen=True)
class ImportFiles:
    """The CSV files written for one import, by label or type, with their row counts.

    multiline: some field spans lines. Only then does the import parse with multiline fields, which
    neo4j-admin cannot split across its workers (measured at 100k products: relationship import
    24-29 s with it, 18 s without).
    """

    nodes: dict[str, tuple[Path, int]]
    relationships: dict[str, tuple[Path, int]]
    multiline: bool = True


def write_import_files(state: GraphState, options: LoadOptions, folder: Path) -> ImportFiles:
    """Header-first CSV files of every node label and relationship type of the final state."""
    nodes: dict[str, tuple[Path, int]] = {}
    rels: dict[str, tuple[Path, int]] = {}
    multiline = False

    def node_file(label: str, frame: pl.DataFrame, header: list[str]) -> None:
        nonlocal multiline
        if frame.height:
            path = folder / f"node-{label}.csv"
            nodes[label] = (path, write_csv(frame, header, path))
            multiline = multiline or has_line_breaks(frame)

    def rel_file(rel_type: str, frame: pl.DataFrame, start: str, end: str) -> None:
        nonlocal multiline
        if frame.height:
            path = folder / f"rel-{rel_type}.csv"
            header = [f":START_ID({start})", f":END_ID({end})", *_typed(frame.columns[2:])]
            rels[rel_type] = (path, write_csv(frame, header, path))
            multiline = multiline or has_line_breaks(frame)

    products = state.products.sort(L.PRODUCT_ID)
    product_columns = [L.PRODUCT_ID, *G.PRODUCT_PROPERTIES, ACTIVE, DELETED_AT, CONTENT_HASH, EMBEDDING_MODEL]
    product_columns.append(EMBEDDING)
    node_file(
        G.PRODUCT,
        products.select(product_columns),
        [f"{L.PRODUCT_ID}:ID({G.PRODUCT})", *_typed(product_columns[1:])],
    )
    user_columns = [L.USER_ID, *G.USER_PROPERTIES, ACTIVE]
    node_file(
        G.USER,
        state.users.sort(L.USER_ID).select(user_columns),
        [f"{L.USER_ID}:ID({G.USER})", *_typed(user_columns[1:])],
    )
    node_file(
        G.BRAND,
        pl.DataFrame({G.NAME: sorted(state.brands)}, schema={G.NAME: pl.String}),
        [f"{G.NAME}:ID({G.BRAND})"],
    )
    paths = sorted(state.categories)
    categories = pl.DataFrame(
        {
            G.PATH: paths,
            G.NAME: [state.categories[p][0] for p in paths],
            G.DEPTH: [state.categories[p][1] for p in paths],
        },
        schema={G.PATH: pl.String, G.NAME: pl.String, G.DEPTH: pl.Int64},
    )
    node_file(G.CATEGORY, categories, [f"{G.PATH}:ID({G.CATEGORY})", G.NAME, f"{G.DEPTH}:long"])
    pairs = sorted(state.attributes)
    attributes = pl.DataFrame(
        {"_id": list(range(len(pairs))), G.TYPE: [p[0] for p in pairs], G.VALUE: [p[1] for p in pairs]},
        schema={"_id": pl.Int64, G.TYPE: pl.String, G.VALUE: pl.String},
    )
    node_file(G.ATTRIBUTE, attributes, [f":ID({G.ATTRIBUTE})", G.TYPE, G.VALUE])
    node_file(
        G.ENTITY,
        pl.DataFrame({G.ENTITY_ID: sorted(state.entities)}, schema={G.ENTITY_ID: pl.String}),
        [f"{G.ENTITY_ID}:ID({G.ENTITY})"],
    )

    rel_file(
        G.HAS_BRAND,
        products.select(L.PRODUCT_ID, BRAND_TARGET).drop_nulls(),
        G.PRODUCT,
        G.BRAND,
    )
    rel_file(
        G.IN_CATEGORY,
        products.select(L.PRODUCT_ID, CATEGORY_TARGET).drop_nulls(),
        G.PRODUCT,
        G.CATEGORY,
    )
    rel_file(
        G.SUBCATEGORY_OF,
        pl.DataFrame(sorted(state.subcategories), schema=["child", "parent"], orient="row"),
        G.CATEGORY,
        G.CATEGORY,
    )
    if state.attribute_sets is not None:
        ids = attributes.select(pl.col("_id"), G.TYPE, G.VALUE)
        has_attribute = (
            state.attribute_sets.explode(G.ATTRIBUTE_SET)
            .drop_nulls(G.ATTRIBUTE_SET)
            .unnest(G.ATTRIBUTE_SET)
            .join(ids, on=[G.TYPE, G.VALUE], how="inner")
            .select(L.PRODUCT_ID, "_id", G.SOURCE, pl.col(G.CONFIDENCE).cast(pl.Float64))
            .sort(L.PRODUCT_ID, "_id")
        )
        rel_file(G.HAS_ATTRIBUTE, has_attribute, G.PRODUCT, G.ATTRIBUTE)
    for rel_type, edges in interaction_edges(state).items():
        rel_file(rel_type, edges, G.USER, G.PRODUCT)
    rel_file(G.SIMILAR_TO, similar_edges(state, options), G.PRODUCT, G.PRODUCT)
    rel_file(
        G.RELATED,
        pl.DataFrame(sorted(state.related), schema=[G.HEAD, G.RELATION, G.TAIL], orient="row").select(
            G.HEAD, G.TAIL, G.RELATION
        ),
        G.ENTITY,
        G.ENTITY,
    )
    rel_file(
        G.LINKED_TO,
        pl.DataFrame(sorted(state.linked), schema=[L.PRODUCT_ID, G.ENTITY_ID], orient="row"),
        G.PRODUCT,
        G.ENTITY,
    )
    return ImportFiles(nodes, rels, multiline)


# ---------------------------------------------------------------- the import itself


def import_command(java: str, settings: Settings, files: ImportFiles, report_file: Path) -> list[str]:
    """java ... AdminTool database import full <database> with every file, overwriting the store.

    The import gets the server's heap and page cache sizes as its heap and off-heap budget (its default
    would take 90% of the free memory of a machine shared with other services).
    """
    neo4j = settings.neo4j
    argv = [
        java, f"-Xmx{neo4j.heap_size}", "-cp", f"{neo4j_layout(settings).lib}/*", ADMIN_CLASS,
        "database", "import", "full", neo4j.database,
        "--overwrite-destination=true", "--bad-tolerance=0",
        f"--multiline-fields={str(files.multiline).lower()}",
        f"--array-delimiter={ARRAY_DELIMITER}", f"--max-off-heap-memory={neo4j.pagecache_size}",
        f"--report-file={report_file}",
    ]  # fmt: skip
    argv += [f"--nodes={label}={path}" for label, (path, _) in sorted(files.nodes.items())]
    argv += [
        f"--relationships={rel_type}={path}" for rel_type, (path, _) in sorted(files.relationships.items())
    ]
    return argv


def _store_folders(settings: Settings) -> tuple[Path, Path]:
    data = neo4j_layout(settings).data
    return data / "databases" / settings.neo4j.database, data / "transactions" / settings.neo4j.database


def _import_keeping_old_store(
    argv: list[str], env: dict[str, str], settings: Settings, backup: Path
) -> subprocess.CompletedProcess[str]:
    """Run the import with the current store moved aside; put it back when the import fails.

    A failed import leaves a store without transaction logs that the server cannot start.
    """
    folders = _store_folders(settings)
    kept = [(folder, backup / str(i)) for i, folder in enumerate(folders) if folder.exists()]
    backup.mkdir()
    for folder, aside in kept:
        folder.rename(aside)
    result = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        for folder in folders:
            shutil.rmtree(folder, ignore_errors=True)
        for folder, aside in kept:
            aside.rename(folder)
    return result


def _import_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line.strip() for line in (result.stderr + result.stdout).splitlines() if line.strip()]
    errors = [
        line for line in lines if not line.startswith("WARNING") and ("rror" in line or "xception" in line)
    ]
    return " | ".join((errors or lines or [f"exit code {result.returncode}"])[:4])[:800]


def bulk_load(
    settings: Settings, lake: str, days: Iterable[date], options: LoadOptions | None = None
) -> BulkReport:
    """Rebuild the managed Neo4j from the given days with neo4j-admin import, then apply the schema.

    The graph equals what load_days would leave after loading the days in order; the server is stopped
    for the import and started again (also when the import fails). Earlier graph manifests are removed
    and every given day gets one, so a later load_days only loads new or changed days. Only the managed
    local server can be rebuilt.
    """
    if not settings.neo4j.managed:
        raise ServiceError(
            f"bulk load rewrites the store of the Neo4j that shopgraph manages; {settings.neo4j.uri} is an "
            "external server (neo4j.managed false): use the incremental load for it"
        )
    options = options or LoadOptions()
    started = time.perf_counter()
    wanted = list(days)
    if not wanted:
        raise ValueError("bulk load needs at least one day")
    report = BulkReport(days=[day.isoformat() for day in wanted])
    state = fold_days(lake, wanted, options)
    layout = neo4j_layout(settings)
    layout.root.mkdir(parents=True, exist_ok=True)
    java = java_executable()
    with tempfile.TemporaryDirectory(prefix="bulk-", dir=layout.root) as scratch:
        folder = Path(scratch)
        files = write_import_files(state, options, folder)
        report.fold_seconds = time.perf_counter() - started
        argv = import_command(java, settings, files, folder / "import.report")
        env = {**os.environ, **neo4j_process_env(layout)}
        # Starting first installs the server and writes the neo4j.conf that names the store to replace.
        start_neo4j(settings)
        stop_neo4j(settings)
        import_started = time.perf_counter()
        try:
            result = _import_keeping_old_store(argv, env, settings, folder / "previous")
            report.import_stages = import_stage_seconds(result.stdout)
            if result.returncode == 0:
                # The store is replaced: no earlier manifest (of these days or others) describes it.
                remove_tree(lake_path(lake, MANIFESTS))
        finally:
            report.import_seconds = time.perf_counter() - import_started
            # The server comes back whatever happened, with the old store when the import failed.
            start_neo4j(settings)
            report.restart_seconds = time.perf_counter() - import_started - report.import_seconds
        if result.returncode != 0:
            raise ServiceError(
                f"neo4j-admin import failed, the previous graph is back: {_import_error(result)}"
            )
    for name, (_, rows) in files.nodes.items():
        report.stats[name] = WriteStats(rows, rows, nodes_created=rows, batches=1)
    for name, (_, rows) in files.relationships.items():
        report.stats[name] = WriteStats(rows, rows, relationships_created=rows, batches=1)
    schema_started = time.perf_counter()
    with neo4j_driver(settings) as driver:
        apply_configured_schema(driver, settings, lake)
    report.schema_seconds = time.perf_counter() - schema_started
    report.seconds = time.perf_counter() - started
    for day in wanted:
        write_manifest(lake, day, day_digests(lake, day), report)
    return report
