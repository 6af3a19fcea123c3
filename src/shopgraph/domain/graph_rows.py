"""Graph rows: polars frames turned into typed row batches and the parameterised Cypher that writes them."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl

from shopgraph.schemas import landing as L

# Node labels and relationship types: the only names that may appear in a query. Data never does.
PRODUCT = "Product"
BRAND = "Brand"
CATEGORY = "Category"
ATTRIBUTE = "Attribute"
USER = "User"
ENTITY = "Entity"
SCHEMA_VERSION = "SchemaVersion"
NODE_LABELS: frozenset[str] = frozenset({PRODUCT, BRAND, CATEGORY, ATTRIBUTE, USER, ENTITY, SCHEMA_VERSION})

HAS_BRAND = "HAS_BRAND"
IN_CATEGORY = "IN_CATEGORY"
SUBCATEGORY_OF = "SUBCATEGORY_OF"
HAS_ATTRIBUTE = "HAS_ATTRIBUTE"
VIEWED = "VIEWED"
CLICKED = "CLICKED"
ADDED_TO_CART = "ADDED_TO_CART"
PURCHASED = "PURCHASED"
RATED = "RATED"
SIMILAR_TO = "SIMILAR_TO"
LINKED_TO = "LINKED_TO"
RELATED = "RELATED"
# event_type -> relationship type of the User->Product interaction it counts towards.
INTERACTION_TYPES: dict[str, str] = {
    L.VIEW: VIEWED,
    L.CLICK: CLICKED,
    L.ADD_TO_CART: ADDED_TO_CART,
    L.PURCHASE: PURCHASED,
    L.RATE: RATED,
}
RELATIONSHIP_TYPES: frozenset[str] = frozenset(
    {HAS_BRAND, IN_CATEGORY, SUBCATEGORY_OF, HAS_ATTRIBUTE, SIMILAR_TO, LINKED_TO, RELATED}
    | set(INTERACTION_TYPES.values())
)

# Node keys: the property (or properties) a uniqueness constraint guards and MERGE matches on.
NODE_KEYS: dict[str, tuple[str, ...]] = {
    PRODUCT: ("product_id",),
    BRAND: ("name",),
    CATEGORY: ("path",),
    ATTRIBUTE: ("type", "value"),
    USER: ("user_id",),
    ENTITY: ("entity_id",),
    SCHEMA_VERSION: ("name",),
}

# Columns of the frames this module produces.
NAME = "name"
PATH = "path"
DEPTH = "depth"
PARENT_PATH = "parent_path"
TYPE = "type"
VALUE = "value"
SOURCE = "source"
CONFIDENCE = "confidence"
ATTRIBUTE_SET = "attributes"
DAY = "day"
COUNT = "count"
FIRST_AT = "first_at"
LAST_AT = "last_at"
ENTITY_ID = "entity_id"
HEAD = "head_id"
TAIL = "tail_id"
RELATION = "relation"
CATALOG_SOURCE = "catalog"
CATEGORY_SEPARATOR = " > "
# Catalog columns that become Attribute nodes (with source 'catalog', confidence 1.0).
CATALOG_ATTRIBUTE_COLUMNS: tuple[str, ...] = (L.BRAND, L.COLOUR, L.MATERIAL, L.SIZE, L.STYLE)
PRODUCT_PROPERTIES: tuple[str, ...] = (
    L.TITLE,
    L.DESCRIPTION,
    L.PRICE,
    L.CURRENCY,
    L.CATEGORY_PATH,
    L.UPDATED_AT,
)
# Columns sent as integer microseconds and stored as DateTime.
TIME_COLUMNS: frozenset[str] = frozenset({L.UPDATED_AT, L.SIGNUP_AT, FIRST_AT, LAST_AT})
USER_PROPERTIES: tuple[str, ...] = (
    L.SIGNUP_AT,
    L.COUNTRY,
    L.AGE_BAND,
    L.LANGUAGE,
    L.MARKETING_OPT_IN,
    L.UPDATED_AT,
)


@dataclass(frozen=True)
class RowBatch:
    """One write: a whitelisted label or type, its Cypher, and the rows sent as the $rows parameter."""

    name: str
    query: str
    rows: list[dict[str, Any]]

    @property
    def parameters(self) -> dict[str, Any]:
        return {"rows": self.rows}


def checked_label(label: str) -> str:
    """The label itself when whitelisted; ValueError otherwise, so no data can name a label."""
    if label not in NODE_LABELS:
        raise ValueError(f"node label {label!r} is not one of {sorted(NODE_LABELS)}")
    return label


def checked_type(rel_type: str) -> str:
    """The relationship type itself when whitelisted; ValueError otherwise."""
    if rel_type not in RELATIONSHIP_TYPES:
        raise ValueError(f"relationship type {rel_type!r} is not one of {sorted(RELATIONSHIP_TYPES)}")
    return rel_type


def row_batches(name: str, query: str, rows: pl.DataFrame, batch_size: int) -> Iterator[RowBatch]:
    """Split a frame into RowBatch objects of at most batch_size rows (plain Python values)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    plain = wire_values(rows)
    for offset in range(0, plain.height, batch_size):
        yield RowBatch(name, query, plain.slice(offset, batch_size).to_dicts())


def key_partitions(rows: pl.DataFrame, key: str, parts: int) -> list[pl.DataFrame]:
    """Rows split into at most `parts` non-empty frames by a hash of the `key` column.

    All rows of one key land in the same frame, in their original order, so writers that each take
    one frame never write the same node.
    """
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    if parts == 1 or rows.height == 0:
        return [rows]
    bucket = rows.get_column(key).hash(seed=0) % parts
    frames = [rows.filter(bucket == part) for part in range(parts)]
    return [frame for frame in frames if frame.height]


def wire_values(rows: pl.DataFrame) -> pl.DataFrame:
    """Timestamps as integer microseconds since the epoch and dates as YYYY-MM-DD text.

    The Python driver packs datetime objects about five times slower than integers; the queries turn
    them back into DateTime and Date values with unwind_rows.
    """
    conversions = []
    for column, dtype in rows.schema.items():
        if isinstance(dtype, pl.Datetime):
            conversions.append(pl.col(column).dt.epoch("us"))
        elif isinstance(dtype, pl.Date):
            conversions.append(pl.col(column).dt.to_string("%Y-%m-%d"))
    return rows.with_columns(conversions) if conversions else rows


def unwind_rows(times: tuple[str, ...] = (), dates: tuple[str, ...] = ()) -> str:
    """UNWIND $rows AS row, rebuilding the named columns as DateTime (from microseconds) and Date values."""
    if not times and not dates:
        return "UNWIND $rows AS row"
    fields = [
        f"{column}: CASE WHEN raw.{column} IS NULL THEN null ELSE datetime({{epochSeconds: "
        f"raw.{column} / 1000000, nanosecond: raw.{column} % 1000000 * 1000}}) END"
        for column in times
    ] + [f"{column}: date(raw.{column})" for column in dates]
    return "UNWIND $rows AS raw\nWITH raw {.*, " + ", ".join(fields) + "} AS row"


# ---------------------------------------------------------------- Cypher builders (pure, exact text)


def _key_map(label: str, var: str = "row") -> str:
    return "{" + ", ".join(f"{key}: {var}.{key}" for key in NODE_KEYS[checked_label(label)]) + "}"


def merge_nodes_query(label: str, properties: tuple[str, ...] = ()) -> str:
    """UNWIND $rows MERGE on the label's key, SET the given properties; returns count(*) AS written."""
    lines = ["UNWIND $rows AS row", f"MERGE (n:{checked_label(label)} {_key_map(label)})"]
    if properties:
        lines.append("SET " + ", ".join(f"n.{prop} = row.{prop}" for prop in properties))
    lines.append("RETURN count(*) AS written")
    return "\n".join(lines)


def upsert_versioned_query(label: str, properties: tuple[str, ...]) -> str:
    """MERGE on the key, SET properties only when the row is not older than the node (updated_at)."""
    sets = ", ".join(f"n.{prop} = row.{prop}" for prop in properties)
    times = tuple(prop for prop in properties if prop in TIME_COLUMNS)
    return "\n".join(
        [
            unwind_rows(times),
            f"MERGE (n:{checked_label(label)} {_key_map(label)})",
            "WITH n, row WHERE n.updated_at IS NULL OR n.updated_at <= row.updated_at",
            f"SET {sets}, n.active = true, n.deleted_at = null",
            "RETURN count(*) AS written",
        ]
    )


def deactivate_products_query() -> str:
    """Tombstone: mark the product inactive, drop its embedding and every SIMILAR_TO edge touching it."""
    return "\n".join(
        [
            unwind_rows((L.UPDATED_AT,)),
            "MATCH (n:Product {product_id: row.product_id})",
            "WHERE n.updated_at IS NULL OR n.updated_at <= row.updated_at",
            "SET n.active = false, n.deleted_at = row.updated_at, n.updated_at = row.updated_at",
            "REMOVE n.embedding, n.embedding_model, n.content_hash",
            "WITH n",
            "OPTIONAL MATCH (n)-[s:SIMILAR_TO]-()",
            "DELETE s",
            "RETURN count(DISTINCT n) AS written",
        ]
    )


def delete_users_query() -> str:
    """Tombstone: a deleted account goes with its interactions (DETACH DELETE)."""
    return "\n".join(
        [
            unwind_rows((L.UPDATED_AT,)),
            "MATCH (n:User {user_id: row.user_id})",
            "WHERE n.updated_at IS NULL OR n.updated_at <= row.updated_at",
            "DETACH DELETE n",
            "RETURN count(*) AS written",
        ]
    )


def replace_single_edge_query(rel_type: str, target: str, target_column: str) -> str:
    """Point each product's one rel_type edge at row.<target_column>: stale edges go, the new one is merged.

    Only rows whose version the product holds (same updated_at) change it, so replaying an older change
    set never moves an edge back.
    """
    key = NODE_KEYS[checked_label(target)][0]
    return "\n".join(
        [
            unwind_rows((L.UPDATED_AT,)),
            "MATCH (p:Product {product_id: row.product_id}) WHERE p.updated_at = row.updated_at",
            f"OPTIONAL MATCH (p)-[old:{checked_type(rel_type)}]->(t:{target})",
            f"WHERE row.{target_column} IS NULL OR t.{key} <> row.{target_column}",
            "DELETE old",
            "WITH DISTINCT p, row WHERE row." + target_column + " IS NOT NULL",
            f"MATCH (t:{target} {{{key}: row.{target_column}}})",
            f"MERGE (p)-[:{rel_type}]->(t)",
            "RETURN count(*) AS written",
        ]
    )


def merge_subcategory_query() -> str:
    """(child:Category)-[:SUBCATEGORY_OF]->(parent:Category) for rows {path, parent_path}."""
    return "\n".join(
        [
            "UNWIND $rows AS row",
            "MATCH (c:Category {path: row.path})",
            "MATCH (parent:Category {path: row.parent_path})",
            "MERGE (c)-[:SUBCATEGORY_OF]->(parent)",
            "RETURN count(*) AS written",
        ]
    )


def replace_attributes_query() -> str:
    """Give each product exactly the attribute set in row.attributes; stale HAS_ATTRIBUTE edges go."""
    return "\n".join(
        [
            "UNWIND $rows AS row",
            "MATCH (p:Product {product_id: row.product_id})",
            "OPTIONAL MATCH (p)-[old:HAS_ATTRIBUTE]->(a:Attribute)",
            "WHERE NOT any(x IN row.attributes WHERE x.type = a.type AND x.value = a.value)",
            "DELETE old",
            "WITH DISTINCT p, row",
            "UNWIND row.attributes AS attr",
            "MATCH (a:Attribute {type: attr.type, value: attr.value})",
            "MERGE (p)-[r:HAS_ATTRIBUTE]->(a)",
            "SET r.source = attr.source, r.confidence = attr.confidence",
            "RETURN count(*) AS written",
        ]
    )


def merge_interactions_query(rel_type: str) -> str:
    """Add one day's counts to (User)-[rel_type]->(Product), idempotently per day.

    The edge keeps `days` (sorted dates) with `day_counts`; reloading a day replaces that day's count,
    so `count` (their sum), `first_at` and `last_at` come out the same however often a day is loaded.
    RATED edges also keep the latest `rating` and its `rated_at`.
    """
    checked_type(rel_type)
    lines = [
        unwind_rows((FIRST_AT, LAST_AT), (DAY,)),
        "MATCH (u:User {user_id: row.user_id})",
        "MATCH (p:Product {product_id: row.product_id})",
        f"MERGE (u)-[r:{rel_type}]->(p)",
        "WITH r, row, coalesce(r.days, []) AS days, coalesce(r.day_counts, []) AS counts",
        "WITH r, row, days, counts,",
        "  [i IN range(0, size(days) - 1) WHERE days[i] < row.day] AS before,",
        "  [i IN range(0, size(days) - 1) WHERE days[i] > row.day] AS after",
        "WITH r, row,",
        "  [i IN before | days[i]] + row.day + [i IN after | days[i]] AS new_days,",
        "  [i IN before | counts[i]] + row.count + [i IN after | counts[i]] AS new_counts,",
        "  CASE WHEN r.first_at IS NULL OR row.first_at < r.first_at THEN row.first_at"
        " ELSE r.first_at END AS new_first,",
        "  CASE WHEN r.last_at IS NULL OR row.last_at > r.last_at THEN row.last_at"
        " ELSE r.last_at END AS new_last",
    ]
    if rel_type == RATED:
        lines[-1] += ","
        lines.append(
            "  CASE WHEN r.rated_at IS NULL OR row.last_at >= r.rated_at THEN row.rating"
            " ELSE r.rating END AS new_rating"
        )
    sets = (
        "SET r.days = new_days, r.day_counts = new_counts, "
        "r.count = reduce(total = 0, c IN new_counts | total + c), "
        "r.first_at = new_first, r.last_at = new_last"
    )
    if rel_type == RATED:
        sets += ", r.rating = new_rating, r.rated_at = new_last"
    lines += [sets, "RETURN count(*) AS written"]
    return "\n".join(lines)


def set_embeddings_query() -> str:
    """Store each active product's embedding as a float32 vector with its model version and content hash."""
    return "\n".join(
        [
            "UNWIND $rows AS row",
            "MATCH (p:Product {product_id: row.product_id}) WHERE p.active",
            "CALL db.create.setNodeVectorProperty(p, 'embedding', row.embedding)",
            "SET p.embedding_model = row.model_version, p.content_hash = row.content_hash",
            "RETURN count(*) AS written",
        ]
    )


def replace_similar_query() -> str:
    """Give each product exactly the SIMILAR_TO neighbours in row.neighbours {product_id, score, rank}."""
    return "\n".join(
        [
            "UNWIND $rows AS row",
            "MATCH (p:Product {product_id: row.product_id})",
            "OPTIONAL MATCH (p)-[old:SIMILAR_TO]->(q:Product)",
            "WHERE NOT q.product_id IN [x IN row.neighbours | x.product_id]",
            "DELETE old",
            "WITH DISTINCT p, row",
            "UNWIND row.neighbours AS x",
            "MATCH (q:Product {product_id: x.product_id}) WHERE q.active",
            "MERGE (p)-[s:SIMILAR_TO]->(q)",
            "SET s.score = x.score, s.rank = x.rank, s.model_version = row.model_version",
            "RETURN count(*) AS written",
        ]
    )


def merge_edges_query(
    rel_type: str, start: str, start_column: str, end: str, end_column: str, *, data_key: str = ""
) -> str:
    """MATCH both ends by key and MERGE the edge; data_key names a row column kept as edge property."""
    start_key = NODE_KEYS[checked_label(start)][0]
    end_key = NODE_KEYS[checked_label(end)][0]
    props = f" {{{data_key}: row.{data_key}}}" if data_key else ""
    return "\n".join(
        [
            "UNWIND $rows AS row",
            f"MATCH (a:{start} {{{start_key}: row.{start_column}}})",
            f"MATCH (b:{end} {{{end_key}: row.{end_column}}})",
            f"MERGE (a)-[:{checked_type(rel_type)}{props}]->(b)",
            "RETURN count(*) AS written",
        ]
    )


# ---------------------------------------------------------------- frame transforms (pure)


def live_rows(changes: pl.DataFrame) -> pl.DataFrame:
    """Rows of a change set that are not tombstones (reads is_deleted)."""
    return changes.filter(~pl.col(L.IS_DELETED).fill_null(False))


def tombstone_rows(changes: pl.DataFrame, key: str) -> pl.DataFrame:
    """key and updated_at of the tombstones in a change set (reads is_deleted)."""
    return changes.filter(pl.col(L.IS_DELETED).fill_null(False)).select(key, L.UPDATED_AT)


def product_node_rows(products: pl.DataFrame) -> pl.DataFrame:
    """product_id, title, description, price, currency, category_path, updated_at of live product rows."""
    return live_rows(products).select(L.PRODUCT_ID, *PRODUCT_PROPERTIES).sort(L.PRODUCT_ID)


def user_node_rows(users: pl.DataFrame) -> pl.DataFrame:
    """user_id, signup_at, country, age_band, language, marketing_opt_in, updated_at of live user rows."""
    return live_rows(users).select(L.USER_ID, *USER_PROPERTIES).sort(L.USER_ID)


def brand_node_rows(products: pl.DataFrame) -> pl.DataFrame:
    """Distinct non-null brand names as name (reads brand)."""
    return live_rows(products).select(pl.col(L.BRAND).alias(NAME)).drop_nulls().unique().sort(NAME)


def category_node_rows(products: pl.DataFrame) -> pl.DataFrame:
    """Every category on the products' paths with its ancestors: path, name, depth, parent_path.

    Reads category_path ('Clothing > Women > Dresses'); a root has depth 0 and a null parent_path.
    """
    paths = live_rows(products).select(L.CATEGORY_PATH).drop_nulls().unique().to_series().to_list()
    rows: dict[str, tuple[str, int, str | None]] = {}
    for path in paths:
        parts = [part.strip() for part in path.split(CATEGORY_SEPARATOR.strip())]
        for depth in range(len(parts)):
            prefix = CATEGORY_SEPARATOR.join(parts[: depth + 1])
            parent = CATEGORY_SEPARATOR.join(parts[:depth]) if depth else None
            rows[prefix] = (parts[depth], depth, parent)
    return pl.DataFrame(
        {
            PATH: list(rows),
            NAME: [value[0] for value in rows.values()],
            DEPTH: [value[1] for value in rows.values()],
            PARENT_PATH: [value[2] for value in rows.values()],
        },
        schema={PATH: pl.String, NAME: pl.String, DEPTH: pl.Int64, PARENT_PATH: pl.String},
    ).sort(PATH)


def product_edge_rows(products: pl.DataFrame, column: str) -> pl.DataFrame:
    """product_id, updated_at and one column (brand or category_path) of live product rows."""
    return live_rows(products).select(L.PRODUCT_ID, L.UPDATED_AT, column).sort(L.PRODUCT_ID)


def catalog_attribute_rows(products: pl.DataFrame) -> pl.DataFrame:
    """Catalog attributes of live products: product_id, type, value, source='catalog', confidence=1.0.

    Reads brand, colour, material, size, style (type = the column name) and the attributes spec pairs
    (type = the pair's key); nulls are skipped.
    """
    live = live_rows(products)
    parts = [
        live.select(
            L.PRODUCT_ID, pl.lit(column).alias(TYPE), pl.col(column).cast(pl.String).alias(VALUE)
        ).drop_nulls(VALUE)
        for column in CATALOG_ATTRIBUTE_COLUMNS
    ]
    if L.ATTRIBUTES in live.columns:
        parts.append(
            live.select(L.PRODUCT_ID, L.ATTRIBUTES)
            .explode(L.ATTRIBUTES)
            .drop_nulls(L.ATTRIBUTES)
            .select(
                L.PRODUCT_ID,
                pl.col(L.ATTRIBUTES).struct.field(L.ATTRIBUTE_KEY).alias(TYPE),
                pl.col(L.ATTRIBUTES).struct.field(L.ATTRIBUTE_VALUE).alias(VALUE),
            )
            .drop_nulls([TYPE, VALUE])
        )
    return pl.concat(parts).with_columns(pl.lit(CATALOG_SOURCE).alias(SOURCE), pl.lit(1.0).alias(CONFIDENCE))


def attribute_node_rows(attributes: pl.DataFrame) -> pl.DataFrame:
    """Distinct (type, value) pairs of an attribute frame."""
    return attributes.select(TYPE, VALUE).unique().sort(TYPE, VALUE)


def attribute_set_rows(attributes: pl.DataFrame, product_ids: pl.Series) -> pl.DataFrame:
    """product_id and attributes (list of {type, value, source, confidence}) for each given product.

    Reads product_id, type, value, source, confidence. A (type, value) found by several sources keeps the
    highest confidence, the catalog winning ties; products without attributes get an empty list, so
    their stale edges go too.
    """
    best = (
        attributes.filter(pl.col(L.PRODUCT_ID).is_in(product_ids.implode()))
        .with_columns(pl.col(CONFIDENCE).cast(pl.Float64), (pl.col(SOURCE) != CATALOG_SOURCE).alias("_rank"))
        .sort([L.PRODUCT_ID, TYPE, VALUE, CONFIDENCE, "_rank"], descending=[False, False, False, True, False])
        .unique([L.PRODUCT_ID, TYPE, VALUE], keep="first", maintain_order=True)
        .group_by(L.PRODUCT_ID, maintain_order=True)
        .agg(pl.struct(TYPE, VALUE, SOURCE, CONFIDENCE).alias(ATTRIBUTE_SET))
    )
    everyone = pl.DataFrame({L.PRODUCT_ID: product_ids.unique().sort()})
    empty = pl.lit([], dtype=best.schema[ATTRIBUTE_SET])
    return (
        everyone.join(best, on=L.PRODUCT_ID, how="left")
        .with_columns(pl.col(ATTRIBUTE_SET).fill_null(empty))
        .sort(L.PRODUCT_ID)
    )


def interaction_rows(events: pl.DataFrame, day: date) -> dict[str, pl.DataFrame]:
    """One day's events folded per relationship type: user_id, product_id, day, count, first_at, last_at.

    Reads user_id, product_id, event_type, ts and rating; RATED rows also carry rating (the latest of
    the day). Unknown event types are not interactions and are left out.
    """
    folded: dict[str, pl.DataFrame] = {}
    for event_type, rel_type in INTERACTION_TYPES.items():
        chosen = events.filter(pl.col(L.EVENT_TYPE) == event_type)
        if chosen.is_empty():
            continue
        aggregations = [
            pl.len().cast(pl.Int64).alias(COUNT),
            pl.col(L.TS).min().alias(FIRST_AT),
            pl.col(L.TS).max().alias(LAST_AT),
        ]
        if rel_type == RATED:
            aggregations.append(pl.col(L.RATING).sort_by(L.TS).last().cast(pl.Int64).alias(L.RATING))
        folded[rel_type] = (
            chosen.group_by(L.USER_ID, L.PRODUCT_ID)
            .agg(aggregations)
            .with_columns(pl.lit(day).alias(DAY))
            .sort(L.USER_ID, L.PRODUCT_ID)
        )
    return folded


def entity_node_rows(triples: pl.DataFrame, links: pl.DataFrame) -> pl.DataFrame:
    """Distinct entity_id of triple heads and tails and of item links."""
    ids = pl.concat(
        [
            triples.select(pl.col(L.HEAD_ENTITY).alias(ENTITY_ID)),
            triples.select(pl.col(L.TAIL_ENTITY).alias(ENTITY_ID)),
            links.select(ENTITY_ID),
        ]
    )
    return ids.drop_nulls().unique().sort(ENTITY_ID)


def triple_rows(triples: pl.DataFrame) -> pl.DataFrame:
    """head_id, relation, tail_id of external triples (reads head_entity, relation, tail_entity)."""
    return (
        triples.select(
            pl.col(L.HEAD_ENTITY).alias(HEAD),
            pl.col(L.RELATION).alias(RELATION),
            pl.col(L.TAIL_ENTITY).alias(TAIL),
        )
        .drop_nulls()
        .unique()
        .sort(HEAD, RELATION, TAIL)
    )


def embedding_rows(embeddings: pl.DataFrame, product_ids: pl.Series) -> pl.DataFrame:
    """product_id, content_hash, model_version, embedding (list of floats) for the given products."""
    return (
        embeddings.filter(pl.col(L.PRODUCT_ID).is_in(product_ids.implode()))
        .select(
            L.PRODUCT_ID,
            "content_hash",
            "model_version",
            pl.col("embedding").cast(pl.List(pl.Float32)).alias("embedding"),
        )
        .unique(L.PRODUCT_ID, keep="last", maintain_order=True)
        .sort(L.PRODUCT_ID)
    )
