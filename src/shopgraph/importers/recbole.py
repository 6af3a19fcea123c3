"""recbole: RecBole atomic files (.inter, .item, .user, .kg, .link) into landing tables."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import fsspec
import polars as pl
from pydantic import Field as PydanticField

from shopgraph.importers.common import (
    DT,
    ROW,
    ImportOptions,
    ImportResult,
    decode_text,
    default_snapshot_day,
    drop_failing,
    drop_repeats,
    landing_frame,
    namespace_from_name,
    namespaced,
    placeholder_titles,
    product_rows,
    read_source_bytes,
    source_lines,
    timeless_fact_time,
    unix_seconds_to_utc,
    user_rows,
    with_fact_day,
)
from shopgraph.importers.parsing import CATEGORY_SEPARATOR, age_band
from shopgraph.importers.report import ImportFormatError, ImportReport
from shopgraph.schemas import landing as L

FORMAT = "recbole"
SUFFIXES = ("inter", "item", "user", "kg", "link")
FIELD_TYPES = ("token", "token_seq", "float", "float_seq")


@dataclass(frozen=True)
class AtomicField:
    """One column of an atomic file's typed header, e.g. `user_id:token`."""

    name: str
    type: str


class RecboleMapping(ImportOptions):
    """Field names of the RecBole dataset (RecBole's defaults) and which item fields hold what."""

    user_id: str = "user_id"
    item_id: str = "item_id"
    rating: str = "rating"
    timestamp: str = "timestamp"
    head: str = "head_id"
    relation: str = "relation_id"
    tail: str = "tail_id"
    entity: str = "entity_id"
    age: str = "age"
    title_fields: list[str] = PydanticField(
        default_factory=lambda: ["title", "movie_title", "name", "item_name"]
    )
    category_fields: list[str] = PydanticField(
        default_factory=lambda: ["categories", "category", "class", "genre"]
    )
    brand_fields: list[str] = PydanticField(default_factory=lambda: ["brand"])
    price_fields: list[str] = PydanticField(default_factory=lambda: ["price"])
    description_fields: list[str] = PydanticField(default_factory=lambda: ["description"])
    department: str | None = None


def parse_typed_header(line: str, file: str) -> list[AtomicField]:
    """The fields of a typed header line (tab-separated `name:type`); fails naming row 1 and the field."""
    fields = []
    for position, entry in enumerate(line.split("\t"), start=1):
        name, sep, kind = entry.strip().rpartition(":")
        if not sep or not name or kind not in FIELD_TYPES:
            raise ImportFormatError(
                file,
                "typed header",
                f"field {position} {entry!r} is not name:type with type one of {', '.join(FIELD_TYPES)}",
                1,
            )
        fields.append(AtomicField(name, kind))
    names = [field.name for field in fields]
    if len(set(names)) != len(names):
        raise ImportFormatError(file, "typed header", f"repeated field names in {names}", 1)
    return fields


def parse_atomic(
    text: str, file: str, table: str, report: ImportReport
) -> tuple[list[AtomicField], pl.DataFrame]:
    """An atomic file's header and its rows as String columns plus `_row`; tab-separated, no quoting (titles
    hold quotes). Rows with the wrong number of fields are dropped and reported; blank lines are skipped."""
    lines = source_lines(text)
    if not lines:
        raise ImportFormatError(file, "typed header", "the file is empty", 1)
    fields = parse_typed_header(lines[0], file)
    width = len(fields)
    columns: list[list[str]] = [[] for _ in fields]
    rows: list[int] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        values = line.split("\t")
        if len(values) != width:
            report.drop(
                table, "wrong number of fields", file, number, f"{len(values)} fields, the header has {width}"
            )
            continue
        rows.append(number)
        for column, value in zip(columns, values, strict=True):
            column.append(value.strip())
    frame = pl.DataFrame(
        {ROW: pl.Series(rows, dtype=pl.Int64)}
        | {
            field.name: pl.Series(values, dtype=pl.String)
            for field, values in zip(fields, columns, strict=True)
        }
    )
    return fields, frame.with_columns(
        pl.when(pl.col(f.name) != "").then(pl.col(f.name)).alias(f.name) for f in fields
    )


def require_fields(fields: list[AtomicField], wanted: list[str], file: str) -> None:
    """Fail naming the header fields the importer needs but the file lacks."""
    names = [field.name for field in fields]
    missing = [name for name in wanted if name not in names]
    if missing:
        raise ImportFormatError(
            file, "missing field", f"the header needs {', '.join(missing)}; it has {', '.join(names)}", 1
        )


def first_present(fields: list[AtomicField], candidates: list[str]) -> str | None:
    """The first candidate field name found in the header."""
    names = {field.name for field in fields}
    return next((name for name in candidates if name in names), None)


def map_interactions(
    fields: list[AtomicField],
    rows: pl.DataFrame,
    mapping: RecboleMapping,
    namespace: str,
    file: str,
    report: ImportReport,
) -> pl.DataFrame:
    """Events from .inter rows: one per row, event_id `<ns>:E<row>`, session_id `<ns>:S<row>` (a rating is a
    session of its own); event_type `rating` when there is a rating field, else `view`; ts from the unix
    timestamp field (null here when there is none). Drops and reports rows with empty ids or non-numeric
    or fractional ratings and timestamps."""
    require_fields(fields, [mapping.user_id, mapping.item_id], file)
    names = {field.name for field in fields}
    has_rating, has_time = mapping.rating in names, mapping.timestamp in names
    frame = rows.with_columns(
        (pl.col(mapping.rating) if has_rating else pl.lit(None, pl.String)).alias("_rating_text"),
        (pl.col(mapping.timestamp) if has_time else pl.lit(None, pl.String)).alias("_time_text"),
    ).with_columns(
        pl.col("_rating_text").cast(pl.Float64, strict=False).alias("_rating"),
        pl.col("_time_text").cast(pl.Float64, strict=False).alias("_time"),
    )
    checks = [
        (
            pl.col(mapping.user_id).is_null() | pl.col(mapping.item_id).is_null(),
            "missing id",
            pl.lit("empty user or item id"),
        ),
    ]
    if has_rating:
        checks += [
            (
                pl.col("_rating").is_null() | ~pl.col("_rating").is_finite(),
                "non-numeric rating",
                pl.format("rating = {}", pl.col("_rating_text").fill_null("<empty>")),
            ),
            (
                pl.col("_rating") != pl.col("_rating").round(0),
                "fractional rating",
                pl.format("rating = {}", pl.col("_rating_text")),
            ),
        ]
    if has_time:
        checks.append(
            (
                pl.col("_time").is_null() | ~pl.col("_time").is_finite(),
                "non-numeric timestamp",
                pl.format("timestamp = {}", pl.col("_time_text").fill_null("<empty>")),
            )
        )
    frame = drop_failing(frame, checks, L.EVENTS, file, report)
    return frame.select(
        pl.format("{}:E{}", pl.lit(namespace), pl.col(ROW).cast(pl.String).str.zfill(9)).alias(L.EVENT_ID),
        namespaced(namespace, mapping.user_id).alias(L.USER_ID),
        namespaced(namespace, mapping.item_id).alias(L.PRODUCT_ID),
        pl.lit(L.RATE if has_rating else L.VIEW).alias(L.EVENT_TYPE),
        unix_seconds_to_utc("_time").alias(L.TS),
        pl.format("{}:S{}", pl.lit(namespace), pl.col(ROW).cast(pl.String).str.zfill(9)).alias(L.SESSION_ID),
        pl.col("_rating").cast(pl.Int32).alias(L.RATING),
    )


def map_items(
    fields: list[AtomicField],
    rows: pl.DataFrame,
    mapping: RecboleMapping,
    namespace: str,
    file: str,
    report: ImportReport,
) -> pl.DataFrame:
    """Products (before contract filling) from .item rows: title, category_path (`<department> > ` + the first
    token of the category field), brand, price, description from the mapped fields; every other field and
    the full category field become attributes {key: field name, value: text}."""
    require_fields(fields, [mapping.item_id], file)
    title = first_present(fields, mapping.title_fields)
    category = first_present(fields, mapping.category_fields)
    brand = first_present(fields, mapping.brand_fields)
    price = first_present(fields, mapping.price_fields)
    description = first_present(fields, mapping.description_fields)
    kinds = {field.name: field.type for field in fields}
    frame = drop_failing(
        rows,
        [(pl.col(mapping.item_id).is_null(), "missing id", pl.lit("empty item id"))],
        L.PRODUCTS,
        file,
        report,
    )
    frame = drop_repeats(frame, [mapping.item_id], L.PRODUCTS, "duplicate item id", file, report)
    source_id = pl.col(mapping.item_id)
    if title is None:
        report.note(
            f"{file}: no title field (looked for {', '.join(mapping.title_fields)}): titles are `item <id>`"
        )
    elif frame[title].null_count():
        for row in frame.filter(pl.col(title).is_null())[ROW]:
            report.partial(L.PRODUCTS, "missing title", file, row, "title set to `item <id>`")
    leaf = pl.lit(None, pl.String)
    if category is not None:
        leaf = (
            pl.col(category).str.split(" ").list.first()
            if kinds[category] == "token_seq"
            else pl.col(category)
        )
    path = (
        leaf
        if mapping.department is None
        else pl.concat_str(pl.lit(mapping.department + CATEGORY_SEPARATOR), leaf)
    )
    roles = {mapping.item_id, title, brand, price, description}
    extras = [field.name for field in fields if field.name not in roles]
    attributes = (
        pl.concat_list(
            pl.when(pl.col(name).is_not_null()).then(
                pl.struct(pl.lit(name).alias(L.ATTRIBUTE_KEY), pl.col(name).alias(L.ATTRIBUTE_VALUE))
            )
            for name in extras
        ).list.drop_nulls()
        if extras
        else pl.lit([], L.ATTRIBUTE_PAIRS)
    )
    frame = frame.with_columns(
        (pl.col(price).cast(pl.Float64, strict=False) if price else pl.lit(None, pl.Float64)).alias(L.PRICE)
    )
    if price:
        for row, text in frame.filter(~(pl.col(L.PRICE) > 0).fill_null(False)).select(ROW, price).iter_rows():
            report.partial(L.PRODUCTS, "no usable price", file, row, f"{price} = {text}: price left null")
    return frame.select(
        namespaced(namespace, source_id).alias(L.PRODUCT_ID),
        (
            pl.coalesce(pl.col(title), placeholder_titles(source_id))
            if title
            else placeholder_titles(source_id)
        ).alias(L.TITLE),
        (pl.col(description) if description else pl.lit(None, pl.String)).alias(L.DESCRIPTION),
        (pl.col(brand) if brand else pl.lit(None, pl.String)).alias(L.BRAND),
        pl.coalesce(path, pl.lit(mapping.category_path)).alias(L.CATEGORY_PATH),
        pl.when(pl.col(L.PRICE) > 0).then(pl.col(L.PRICE)).alias(L.PRICE),
        attributes.cast(L.ATTRIBUTE_PAIRS).alias(L.ATTRIBUTES),
    )


def map_users(
    fields: list[AtomicField],
    rows: pl.DataFrame,
    mapping: RecboleMapping,
    namespace: str,
    file: str,
    report: ImportReport,
) -> pl.DataFrame:
    """Users (before contract filling) from .user rows: user_id and age_band from the age field (under 18 or
    unreadable: null); other fields have no landing column and are listed in the report."""
    require_fields(fields, [mapping.user_id], file)
    frame = drop_failing(
        rows,
        [(pl.col(mapping.user_id).is_null(), "missing id", pl.lit("empty user id"))],
        L.USERS,
        file,
        report,
    )
    frame = drop_repeats(frame, [mapping.user_id], L.USERS, "duplicate user id", file, report)
    names = [field.name for field in fields]
    unmapped = [name for name in names if name not in (mapping.user_id, mapping.age)]
    if unmapped:
        report.note(f"{file}: fields without a landing column, not imported: {', '.join(unmapped)}")
    bands: list[str | None] = [None] * frame.height
    if mapping.age in names:
        ages = frame[mapping.age].cast(pl.Int64, strict=False)
        unreadable = frame.filter(ages.is_null() & pl.col(mapping.age).is_not_null())
        for row, text in unreadable.select(ROW, mapping.age).iter_rows():
            report.partial(
                L.USERS, "unreadable age", file, row, f"{mapping.age} = {text}: age_band left null"
            )
        minors = int((ages < 18).sum())
        if minors:
            report.note(f"{file}: {minors} users younger than 18 have no contract age band: age_band null")
        bands = [age_band(age) for age in ages.to_list()]
    return frame.select(
        namespaced(namespace, mapping.user_id).alias(L.USER_ID),
        pl.Series(L.AGE_BAND, bands, dtype=pl.String),
    )


def map_triples(
    fields: list[AtomicField],
    rows: pl.DataFrame,
    mapping: RecboleMapping,
    namespace: str,
    file: str,
    report: ImportReport,
) -> pl.DataFrame:
    """kg_triples from .kg rows: head and tail entities as `<ns>:<entity>`, the relation as written."""
    require_fields(fields, [mapping.head, mapping.relation, mapping.tail], file)
    parts = [mapping.head, mapping.relation, mapping.tail]
    frame = drop_failing(
        rows,
        [(pl.any_horizontal(pl.col(parts).is_null()), "missing id", pl.lit("empty head, relation or tail"))],
        L.KG_TRIPLES,
        file,
        report,
    )
    frame = drop_repeats(frame, parts, L.KG_TRIPLES, "duplicate triple", file, report)
    return frame.select(
        namespaced(namespace, mapping.head).alias(L.HEAD_ENTITY),
        pl.col(mapping.relation).alias(L.RELATION),
        namespaced(namespace, mapping.tail).alias(L.TAIL_ENTITY),
    )


def map_links(
    fields: list[AtomicField],
    rows: pl.DataFrame,
    mapping: RecboleMapping,
    namespace: str,
    file: str,
    report: ImportReport,
) -> pl.DataFrame:
    """entity_links from .link rows: product_id `<ns>:<item>` and entity_id `<ns>:<entity>`."""
    require_fields(fields, [mapping.item_id, mapping.entity], file)
    parts = [mapping.item_id, mapping.entity]
    frame = drop_failing(
        rows,
        [(pl.any_horizontal(pl.col(parts).is_null()), "missing id", pl.lit("empty item or entity id"))],
        L.ENTITY_LINKS,
        file,
        report,
    )
    frame = drop_repeats(frame, parts, L.ENTITY_LINKS, "duplicate link", file, report)
    return frame.select(
        namespaced(namespace, mapping.item_id).alias(L.PRODUCT_ID),
        namespaced(namespace, mapping.entity).alias(L.ENTITY_ID),
    )


def find_atomic_files(path: str) -> tuple[str, dict[str, str]]:
    """The dataset name and its atomic files, from a folder holding one dataset or from one of its files."""
    fs, target = fsspec.core.url_to_fs(path)
    protocol = path[: path.index("://") + 3] if "://" in path else ""
    if fs.isdir(target):
        listed = [entry for entry in fs.ls(target, detail=False) if entry.rsplit(".", 1)[-1] in SUFFIXES]
        stems = sorted({entry.rsplit("/", 1)[-1].rsplit(".", 1)[0] for entry in listed})
        if len(stems) != 1:
            found = ", ".join(stems) or "none"
            raise ImportFormatError(
                path, "one RecBole dataset", f"expected atomic files of one dataset, found: {found}"
            )
        folder, stem = target.rstrip("/"), stems[0]
    else:
        folder, _, name = target.rpartition("/")
        stem = name.rsplit(".", 1)[0]
    files = {
        suffix: f"{protocol}{folder}/{stem}.{suffix}"
        for suffix in SUFFIXES
        if fs.exists(f"{folder}/{stem}.{suffix}")
    }
    if "inter" not in files and "item" not in files:
        raise ImportFormatError(path, "RecBole atomic files", f"no {stem}.inter or {stem}.item beside it")
    return stem, files


def read_atomic(path: str, table: str, report: ImportReport) -> tuple[list[AtomicField], pl.DataFrame]:
    """Header and rows of one atomic file (UTF-8, tab-separated)."""
    return parse_atomic(decode_text(read_source_bytes(path), path), path, table, report)


def import_recbole(
    path: str, mapping: RecboleMapping, namespace: str | None, day: date | None
) -> ImportResult:
    """Read a RecBole dataset's atomic files into products, users, events, kg_triples and entity_links."""
    stem, files = find_atomic_files(path)
    namespace = namespace or mapping.namespace or namespace_from_name(stem)
    report = ImportReport(FORMAT, namespace, path)
    events = pl.DataFrame(schema={L.USER_ID: pl.String, L.PRODUCT_ID: pl.String, L.TS: L.TIMESTAMP})
    if "inter" in files:
        events = map_interactions(
            *read_atomic(files["inter"], L.EVENTS, report), mapping, namespace, files["inter"], report
        )
    snapshot_day = default_snapshot_day([events[L.TS]], day)
    if events[L.TS].null_count():
        events = events.with_columns(
            pl.col(L.TS).fill_null(pl.lit(timeless_fact_time(snapshot_day)).cast(L.TIMESTAMP))
        )
        report.note(f"events: no timestamp field, ts = {timeless_fact_time(snapshot_day).isoformat()}")
    if day is not None and events.height and events[L.TS].min() < timeless_fact_time(snapshot_day, 0):  # type: ignore[operator]
        report.note(
            f"--date {day} is after the first event: products and users are exported after some events"
        )

    products = pl.DataFrame(schema={L.PRODUCT_ID: pl.String})
    if "item" in files:
        products = map_items(
            *read_atomic(files["item"], L.PRODUCTS, report), mapping, namespace, files["item"], report
        )
    users = pl.DataFrame(schema={L.USER_ID: pl.String, L.AGE_BAND: pl.String})
    if "user" in files:
        users = map_users(
            *read_atomic(files["user"], L.USERS, report), mapping, namespace, files["user"], report
        )
    products, users = add_referenced(products, users, events, mapping, report)

    tables = {
        L.PRODUCTS: product_rows(products, snapshot_day, mapping.currency),
        L.USERS: user_rows(users, snapshot_day, mapping.users),
        L.EVENTS: landing_frame(with_fact_day(events, L.TS), L.EVENTS),
    }
    if "kg" in files:
        triples = map_triples(
            *read_atomic(files["kg"], L.KG_TRIPLES, report), mapping, namespace, files["kg"], report
        )
        tables[L.KG_TRIPLES] = landing_frame(
            triples.with_columns(pl.lit(snapshot_day).alias(DT)), L.KG_TRIPLES
        )
    if "link" in files:
        links = map_links(
            *read_atomic(files["link"], L.ENTITY_LINKS, report), mapping, namespace, files["link"], report
        )
        tables[L.ENTITY_LINKS] = landing_frame(
            links.with_columns(pl.lit(snapshot_day).alias(DT)), L.ENTITY_LINKS
        )
    report.note(
        f"users: signup_at = updated_at = {snapshot_day} 00:00 UTC; country {mapping.users.country}, "
        f"language {mapping.users.language}, marketing_opt_in {mapping.users.marketing_opt_in}"
    )
    return ImportResult(tables, report, snapshot_day)


def add_referenced(
    products: pl.DataFrame,
    users: pl.DataFrame,
    events: pl.DataFrame,
    mapping: RecboleMapping,
    report: ImportReport,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """products and users plus a placeholder row for every id that events name but the files lack."""
    missing_products = (
        events.select(L.PRODUCT_ID)
        .unique()
        .join(products.select(L.PRODUCT_ID), on=L.PRODUCT_ID, how="anti")
        .sort(L.PRODUCT_ID)
    )
    if missing_products.height:
        report.note(
            f"{missing_products.height} items appear only in .inter: products synthesised, title `item <id>`"
        )
        filled = missing_products.with_columns(
            placeholder_titles(pl.col(L.PRODUCT_ID).str.splitn(":", 2).struct.field("field_1")).alias(
                L.TITLE
            ),
            pl.lit(mapping.category_path).alias(L.CATEGORY_PATH),
        )
        products = pl.concat([products, filled], how="diagonal_relaxed")
    missing_users = (
        events.select(L.USER_ID)
        .unique()
        .join(users.select(L.USER_ID), on=L.USER_ID, how="anti")
        .sort(L.USER_ID)
    )
    if missing_users.height:
        report.note(f"{missing_users.height} users appear only in .inter: users synthesised from defaults")
        users = pl.concat([users, missing_users], how="diagonal_relaxed")
    if L.ATTRIBUTES in products.columns:
        products = products.with_columns(pl.col(L.ATTRIBUTES).fill_null(pl.lit([], L.ATTRIBUTE_PAIRS)))
    return products, users
