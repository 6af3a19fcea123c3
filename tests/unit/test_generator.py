"""Unit tests for the synthetic shop: text spans, determinism, schemas, funnels, quality signal and faults."""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

from shopgraph.adapters.lake import (
    lake_path,
    landing_files,
    parquet_bytes,
    partition_day,
    read_parquet,
    read_parquet_schema,
    remove_tree,
)
from shopgraph.domain.generator import vocabulary as V
from shopgraph.domain.generator.catalog import NONE, listing_frames, plan_catalog
from shopgraph.domain.generator.faults import corrupt_parquet, fault_kinds, inject_row_faults
from shopgraph.domain.generator.queries import Intents, compose_query, grade_relevance
from shopgraph.domain.generator.reviews import rate_experience
from shopgraph.domain.generator.rng import stream
from shopgraph.domain.generator.sessions import Ratings, events_frame, rating_events, simulate_sessions
from shopgraph.domain.generator.shelf import stock_shelf
from shopgraph.domain.generator.text import Slot, Span, capitalise_first, join_sentences, render
from shopgraph.domain.generator.users import COUNTRIES, plan_users
from shopgraph.generate import generate_shop
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T
from shopgraph.schemas.landing import LANDING_SCHEMAS, check_schema

pytestmark = pytest.mark.unit

START = date(2026, 1, 1)
SMALL = {"products": 300, "users": 400, "days": 4, "start_date": START}


def _digests(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def _landing(root: Path, table: str) -> pl.DataFrame:
    frames = [
        read_parquet(path).with_columns(pl.lit(partition_day(path)).alias("dt"))
        for path in landing_files(str(root), table)
    ]
    return pl.concat(frames)


def _truth(root: Path, name: str) -> pl.DataFrame:
    return pl.read_parquet(root / "truth" / name / "**" / "*.parquet", hive_partitioning=True)


def _assert_spans_match(entities: pl.DataFrame, products: pl.DataFrame, on: list[str] | None = None) -> None:
    """Every span's text[start:end] (Python code-point offsets) equals its value."""
    keys = on or [L.PRODUCT_ID]
    joined = entities.join(products.select(*keys, L.TITLE, L.DESCRIPTION), on=keys)
    assert joined.height == entities.height > 0
    texts = (
        joined.select(
            pl.when(pl.col(T.FIELD) == T.FIELD_TITLE).then(pl.col(L.TITLE)).otherwise(pl.col(L.DESCRIPTION))
        )
        .to_series()
        .to_list()
    )
    starts, ends, values = joined[T.START].to_list(), joined[T.END].to_list(), joined[T.VALUE].to_list()
    assert all(text[a:b] == value for text, a, b, value in zip(texts, starts, ends, values, strict=True))


@pytest.fixture(scope="module")
def clean_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clean") / "lake"
    generate_shop(str(root), products=400, users=1500, days=8, start_date=START, seed=11, dirty=False)
    return root


@pytest.fixture(scope="module")
def dirty_shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dirty") / "lake"
    generate_shop(str(root), products=400, users=800, days=6, start_date=START, seed=5, dirty=True)
    return root


# --- text rendering -----------------------------------------------------------------------------------


def test_render_drops_missing_optional_groups_and_records_spans() -> None:
    slots = {
        "brand": Slot("Kaia", "brand", "Kaia"),
        "colour": None,
        "category": Slot("wrap dress", "category", "Clothing > Women > Dresses"),
    }
    text, spans = render("[{brand} ][{colour} ]{category}[ in {colour}]", slots)  # type: ignore[misc]
    assert text == "Kaia wrap dress"
    assert spans == [
        Span(0, 4, "brand", "Kaia", "Kaia"),
        Span(5, 15, "category", "wrap dress", "Clothing > Women > Dresses"),
    ]
    assert render("{category} by {brand}", {"brand": slots["brand"]}) is None


def test_capitalise_and_join_keep_spans_in_step() -> None:
    first = capitalise_first("navy coat.", [Span(0, 4, "colour", "navy", "navy")])
    joined, spans = join_sentences([first, ("Made from wool.", [Span(10, 14, "material", "wool", "wool")])])
    assert joined == "Navy coat. Made from wool."
    assert [joined[s.start : s.end] for s in spans] == ["Navy", "wool"]
    assert [s.value for s in spans] == ["Navy", "wool"]


def test_vocabulary_is_consistent() -> None:
    for category in V.CATEGORIES:
        assert set(category.colours) <= set(V.COLOUR_SURFACES), category.path
        assert set(category.materials) <= set(V.MATERIAL_SURFACES), category.path
        assert category.department in V.DEPARTMENT_INDEX
    for department in V.DEPARTMENTS:
        assert set(department.styles) <= set(V.STYLE_SURFACES)
        assert {tier for _, tier in department.brands} == {V.BUDGET, V.MID, V.PREMIUM}


def test_listing_spans_point_at_their_values() -> None:
    catalog = plan_catalog(600, 1, stream(3, "catalog"))
    indices = np.arange(len(catalog))
    products, entities = listing_frames(catalog, indices, np.zeros(indices.size, dtype=np.int64))
    _assert_spans_match(entities, products)
    assert set(entities[T.ENTITY_TYPE].unique()) == set(T.ENTITY_TYPES)
    # Varied phrasing: many title shapes, and entities sometimes left out of titles.
    assert products[L.TITLE].n_unique() > 550
    title_types = entities.filter(pl.col(T.FIELD) == T.FIELD_TITLE).group_by(L.PRODUCT_ID).agg(pl.len())
    assert title_types["len"].min() < title_types["len"].max()


def test_titles_use_synonyms_and_several_positions() -> None:
    catalog = plan_catalog(2000, 1, stream(4, "catalog"))
    _, entities = listing_frames(catalog, np.arange(len(catalog)), np.zeros(len(catalog), dtype=np.int64))
    colours = entities.filter(pl.col(T.ENTITY_TYPE) == T.ENTITY_COLOUR)
    assert (colours[T.VALUE].str.to_lowercase() != colours[T.CANONICAL]).any()
    brand_starts = entities.filter(
        (pl.col(T.ENTITY_TYPE) == T.ENTITY_BRAND) & (pl.col(T.FIELD) == T.FIELD_TITLE)
    )[T.START]
    assert (brand_starts == 0).any() and (brand_starts > 0).any()


# --- generated lake -------------------------------------------------------------------------------------


def test_same_seed_gives_byte_identical_files_and_another_seed_differs(tmp_path: Path) -> None:
    for name, seed in (("a", 21), ("b", 21), ("c", 22)):
        generate_shop(str(tmp_path / name), **SMALL, seed=seed, dirty=True)  # type: ignore[arg-type]
    first, second, other = (_digests(tmp_path / name) for name in "abc")
    assert first == second
    assert any(path.endswith(".parquet") for path in first)
    assert {path for path in first if first[path] != other.get(path)}


def test_summary_counts_match_the_files(clean_shop: Path) -> None:
    manifest = json.loads((clean_shop / "truth" / "manifest.json").read_text())
    for table in LANDING_SCHEMAS:
        files = landing_files(str(clean_shop), table)
        assert files, table
        assert manifest["files"][table] == len(files)
        assert manifest["rows"][table] == sum(pq.ParquetFile(path).metadata.num_rows for path in files)
    assert manifest["paths"][L.EVENTS] == "landing/events" and manifest["fault_record"] is None


def test_every_partition_matches_its_schema(clean_shop: Path) -> None:
    for table in LANDING_SCHEMAS:
        for path in landing_files(str(clean_shop), table):
            check_schema(read_parquet_schema(path), table, path)
            frame = read_parquet(path)
            keys = list(L.LANDING_KEYS[table])
            assert frame.select(keys).null_count().sum_horizontal().item() == 0, path
            assert not frame.select(keys).is_duplicated().any(), path
            live = frame.filter(~pl.col(L.IS_DELETED)) if L.IS_DELETED in frame.columns else frame
            required = [c for c in frame.columns if c not in L.LANDING_NULLABLE[table]]
            assert live.select(required).null_count().sum_horizontal().item() == 0, path


def test_change_sets_start_with_the_catalog_and_carry_tombstones(clean_shop: Path) -> None:
    products = _landing(clean_shop, L.PRODUCTS)
    first_day = products.filter(pl.col("dt") == START)
    assert first_day.height == 400 and not first_day[L.IS_DELETED].any()
    later = products.filter(pl.col("dt") > START)
    assert (
        later.filter(~pl.col(L.IS_DELETED))[L.PRODUCT_ID].is_in(first_day[L.PRODUCT_ID].implode()).any()
    )  # updates
    assert not later[L.PRODUCT_ID].is_in(first_day[L.PRODUCT_ID].implode()).all()  # new products
    tombstones = products.filter(pl.col(L.IS_DELETED))
    assert tombstones.height > 0
    assert tombstones.select(L.TITLE, L.PRICE, L.CATEGORY_PATH).null_count().to_numpy().tolist() == [
        [tombstones.height] * 3
    ]
    assert (products[L.UPDATED_AT].dt.date() == products["dt"]).all()


def test_events_reference_known_products_and_users(clean_shop: Path) -> None:
    events = _landing(clean_shop, L.EVENTS)
    products = _landing(clean_shop, L.PRODUCTS)
    users = _landing(clean_shop, L.USERS)
    assert set(events[L.EVENT_TYPE].unique()) == set(L.EVENT_TYPES)
    assert events[L.PRODUCT_ID].is_in(products[L.PRODUCT_ID].implode()).all()
    assert events[L.USER_ID].is_in(users[L.USER_ID].implode()).all()
    assert (events[L.TS].dt.date() == events["dt"]).all()
    ratings = events.filter(pl.col(L.EVENT_TYPE) == L.RATE)[L.RATING]
    assert ratings.is_not_null().all() and ratings.is_between(1, 5).all()
    purchases = events.filter(pl.col(L.EVENT_TYPE) == L.PURCHASE)[L.PRICE]
    assert purchases.is_not_null().all() and (purchases > 0).all()
    assert events.filter(pl.col(L.QUERY).is_not_null()).height > 0


def test_funnel_purchases_were_carted_clicked_and_viewed_in_the_session(clean_shop: Path) -> None:
    events = _landing(clean_shop, L.EVENTS)
    steps = [L.VIEW, L.CLICK, L.ADD_TO_CART, L.PURCHASE]
    pairs = {
        step: set(events.filter(pl.col(L.EVENT_TYPE) == step).select(L.SESSION_ID, L.PRODUCT_ID).iter_rows())
        for step in steps
    }
    for narrower, wider in zip(steps[1:], steps[:-1], strict=True):
        assert pairs[narrower] <= pairs[wider], narrower
    assert len(pairs[L.PURCHASE]) > 20
    counts = events[L.EVENT_TYPE].value_counts().sort("count", descending=True)[L.EVENT_TYPE].to_list()
    assert counts[0] == L.VIEW


def test_sessions_of_users_who_cannot_shop_yet_are_empty() -> None:
    catalog = plan_catalog(100, 3, stream(1, "catalog"))
    population = plan_users(100, 3, 0, stream(1, "users"))
    newcomers = np.flatnonzero(population.signup_day > 0)
    sessions, queries, purchases = simulate_sessions(
        catalog, stock_shelf(catalog, 0), population, newcomers, 0, stream(1, "events")
    )
    empty = np.empty(0, dtype=np.int64)
    frame = events_frame(sessions, queries, rating_events(Ratings(empty, empty, empty, empty), 0), 0, "x-")
    assert frame.height == 0 and frame.schema == L.EVENTS_SCHEMA
    assert purchases.user.size == 0


def test_defective_products_get_lower_ratings() -> None:
    rng = stream(0, "test")
    quality = rng.beta(4.5, 2.0, 20_000)
    theme = np.where(np.arange(20_000) % 10 == 0, 0, NONE)
    rating, experienced = rate_experience(quality, theme, rng)
    assert rating.min() >= 1 and rating.max() <= 5
    assert rating[theme != NONE].mean() < rating[theme == NONE].mean() - 1.0
    assert (experienced[theme != NONE] == 0).mean() > 0.6


def test_defective_products_get_lower_ratings_in_the_lake(clean_shop: Path) -> None:
    truth = _truth(clean_shop, T.PRODUCT_TRUTH).select(L.PRODUCT_ID, T.IS_DEFECTIVE)
    events = _landing(clean_shop, L.EVENTS).filter(pl.col(L.EVENT_TYPE) == L.RATE)
    means = events.join(truth, on=L.PRODUCT_ID).group_by(T.IS_DEFECTIVE).agg(pl.col(L.RATING).mean())
    by_defect = dict(means.iter_rows())
    assert by_defect[True] < by_defect[False]
    reviews = _landing(clean_shop, L.REVIEWS)
    themes = _truth(clean_shop, T.REVIEW_TRUTH)
    assert reviews.height == themes.height > 0
    themed = reviews.join(themes.select(L.REVIEW_ID, T.THEME), on=L.REVIEW_ID)
    complaints = themed.filter(pl.col(T.THEME).is_not_null())
    assert complaints[L.RATING].mean() < themed.filter(pl.col(T.THEME).is_null())[L.RATING].mean()


def test_lake_spans_point_at_their_values(clean_shop: Path) -> None:
    products = _landing(clean_shop, L.PRODUCTS).filter(~pl.col(L.IS_DELETED))
    _assert_spans_match(_truth(clean_shop, T.PRODUCT_ENTITIES), products, on=[L.PRODUCT_ID, "dt"])


def test_hidden_truth_stays_out_of_landing(clean_shop: Path) -> None:
    hidden = {T.QUALITY, T.IS_DEFECTIVE, T.DEFECT_THEME, T.POPULARITY, T.PRICE_BAND, T.THEME}
    for schema in LANDING_SCHEMAS.values():
        assert not hidden & set(schema)
    tastes = _truth(clean_shop, T.USER_TASTES)
    drifted = tastes.filter(pl.col(T.VALID_TO).is_not_null())
    assert drifted.height > 0
    assert (drifted[T.VALID_FROM] < drifted[T.VALID_TO]).all()


def test_judgments_are_graded_from_truth(clean_shop: Path) -> None:
    judgments = _landing(clean_shop, L.SEARCH_JUDGMENTS)
    assert set(judgments[L.RELEVANCE].unique()) == {0, 1, 2, 3}
    intents = _truth(clean_shop, T.QUERY_INTENTS)
    assert judgments[L.QUERY_ID].is_in(intents[L.QUERY_ID].implode()).all()
    truth = _truth(clean_shop, T.PRODUCT_TRUTH)
    exact = (
        judgments.filter(pl.col(L.RELEVANCE) == 3)
        .join(intents.select(L.QUERY_ID, pl.col(L.CATEGORY_PATH).alias("asked")), on=L.QUERY_ID)
        .join(truth.select(L.PRODUCT_ID, L.CATEGORY_PATH), on=L.PRODUCT_ID)
        .filter(pl.col("asked").is_not_null())
    )
    assert (exact["asked"] == exact[L.CATEGORY_PATH]).all()


def test_grade_relevance_on_hand_built_intents() -> None:
    catalog = plan_catalog(200, 1, stream(9, "catalog"))
    product = 0
    other_department = int(np.flatnonzero(catalog.category != catalog.category[product])[0])

    def intent(**asked: int) -> Intents:
        values = {
            name: np.array([asked.get(name, NONE)], dtype=np.int16)
            for name in ("category", "brand", "colour", "material", "style", "size")
        }
        return Intents(**values)

    exact = intent(category=int(catalog.category[product]), brand=int(catalog.brand[product]))
    wrong_brand = intent(
        category=int(catalog.category[product]), brand=(int(catalog.brand[product]) + 1) % 40
    )
    products = np.array([product, other_department])
    assert grade_relevance(exact, 0, catalog, products)[0] == 3
    assert grade_relevance(wrong_brand, 0, catalog, products)[0] in (1, 2)
    assert grade_relevance(exact, 0, catalog, products)[1] < 3
    text, _ = compose_query(exact, 0, random.Random(1))
    assert text


def test_generate_rejects_empty_shops(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="days must be at least 1"):
        generate_shop(str(tmp_path), products=10, users=10, days=0, start_date=START, seed=1)


def test_generate_into_memory_and_report_progress() -> None:
    root = f"memory://shop-{uuid.uuid4().hex}"
    seen: list[tuple[str, int, int]] = []
    try:
        summary = generate_shop(
            root,
            products=50,
            users=40,
            days=2,
            start_date=START,
            seed=3,
            progress=lambda step, done, total: seen.append((step, done, total)),
        )
        assert summary.rows[L.PRODUCTS] >= 50
        assert summary.fault_record is None
        assert landing_files(root, L.EVENTS)
        assert ("days", 2, 2) in seen
    finally:
        remove_tree(root)


# --- faults ---------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _check_fault(frame: pl.DataFrame, fault: dict[str, object], known_ids: set[str]) -> None:
    row, kind, column = fault[T.ROW], fault[T.KIND], fault[T.COLUMN]
    assert isinstance(row, int) and 0 <= row < frame.height, fault
    value = frame[str(column)][row]
    dt = fault[T.DT]
    assert isinstance(dt, date)
    if kind == T.FAULT_NULL_KEY:
        assert value is None
    elif kind == T.FAULT_DUPLICATE_KEY:
        source = int(str(fault[T.DETAIL]).rsplit(" ", 1)[-1])
        assert frame.row(row) == frame.row(source)
    elif kind == T.FAULT_OUT_OF_RANGE:
        if column == L.PRICE:
            assert float(value) < 0
        elif column == L.RATING:
            assert not 1 <= value <= 5
        else:
            assert not 0 <= value <= 3
    elif kind == T.FAULT_FUTURE_TIMESTAMP:
        assert isinstance(value, datetime) and value.date() > dt + timedelta(days=30)
    elif kind == T.FAULT_ORPHAN_REFERENCE:
        assert value not in known_ids
    elif kind == T.FAULT_UNKNOWN_CATEGORY:
        assert value not in L.EVENT_TYPES and value not in COUNTRIES
    elif kind == T.FAULT_CONTROL_CHARS:
        assert _CONTROL.search(value)
    elif kind == T.FAULT_HTML_MARKUP:
        assert "<" in value and ">" in value
    elif kind == T.FAULT_BAD_ENCODING:
        assert any(mark in value for mark in ("Ã", "Â", "\ufffd"))
    else:
        raise AssertionError(f"unexpected row-level fault {fault}")


def test_dirty_fault_record_matches_the_files(dirty_shop: Path) -> None:
    faults = pl.read_parquet(dirty_shop / "truth" / "faults.parquet")
    assert faults.schema == T.FAULTS_SCHEMA
    assert set(faults[T.KIND].unique()) == set(T.FAULT_KINDS)
    recorded = set(faults.select(T.TABLE, T.KIND, T.COLUMN).iter_rows())
    for table in LANDING_SCHEMAS:
        assert {(table, kind, column) for kind, column in fault_kinds(table)} <= recorded, table

    corrupt = faults.filter(pl.col(T.KIND) == T.FAULT_CORRUPT_FILE)[T.FILE].to_list()
    assert len(corrupt) == 1
    with pytest.raises(Exception):  # noqa: B017 - pyarrow raises ArrowInvalid, the exact class is its concern
        read_parquet(lake_path(str(dirty_shop), corrupt[0]))

    drifted = faults.filter(pl.col(T.KIND) == T.FAULT_TYPE_DRIFT).row(0, named=True)
    schema = read_parquet(lake_path(str(dirty_shop), drifted[T.FILE])).schema
    assert schema[L.PRICE] == pl.String

    known: set[str] = set()
    for table in (L.PRODUCTS, L.USERS):
        for path in landing_files(str(dirty_shop), table):
            known |= set(read_parquet(path)[L.LANDING_KEYS[table][0]].drop_nulls().to_list())
    checked = 0
    for file, group in faults.filter(pl.col(T.ROW).is_not_null()).group_by(T.FILE, maintain_order=True):
        if file[0] in corrupt:
            continue
        frame = read_parquet(lake_path(str(dirty_shop), str(file[0])))
        for fault in group.iter_rows(named=True):
            _check_fault(frame, fault, known)
            checked += 1
    assert checked > 20


def test_clean_files_of_a_dirty_shop_still_match_their_schema(dirty_shop: Path) -> None:
    faults = pl.read_parquet(dirty_shop / "truth" / "faults.parquet")
    broken = set(faults.filter(pl.col(T.ROW).is_null())[T.FILE].to_list())
    for table in LANDING_SCHEMAS:
        for path in landing_files(str(dirty_shop), table):
            if path.split("/lake/", 1)[1] not in broken:
                check_schema(read_parquet_schema(path), table, path)


def test_inject_row_faults_records_final_positions() -> None:
    frame = pl.DataFrame(
        {
            L.QUERY_ID: [f"Q{i}" for i in range(50)],
            L.QUERY: ["red dress"] * 50,
            L.PRODUCT_ID: [f"P{i}" for i in range(50)],
            L.RELEVANCE: pl.Series([i % 4 for i in range(50)], dtype=pl.Int32),
            L.JUDGED_AT: pl.Series([0] * 50, dtype=pl.Int64).cast(L.TIMESTAMP),
        },
        schema=L.SEARCH_JUDGMENTS_SCHEMA,
    )
    owed = {
        (T.FAULT_NULL_KEY, L.QUERY_ID),
        (T.FAULT_OUT_OF_RANGE, L.RELEVANCE),
        (T.FAULT_DUPLICATE_KEY, L.QUERY_ID),
    }
    dirty, faults = inject_row_faults(
        frame, L.SEARCH_JUDGMENTS, stream(1, "f"), day=START, rate=0.0, owed=owed
    )
    assert dirty.height == 51
    assert sorted(f.kind for f in faults) == sorted(kind for kind, _ in owed)
    for fault in faults:
        assert fault.row is not None
        _check_fault(
            dirty,
            {
                T.ROW: fault.row,
                T.KIND: fault.kind,
                T.COLUMN: fault.column,
                T.DETAIL: fault.detail,
                T.DT: START,
            },
            set(),
        )


def test_corrupt_parquet_is_unreadable() -> None:
    data, fault = corrupt_parquet(parquet_bytes(pl.DataFrame({"a": list(range(100))})), stream(1, "c"))
    assert fault.kind == T.FAULT_CORRUPT_FILE and fault.row is None
    with pytest.raises(Exception):  # noqa: B017
        pl.read_parquet(io.BytesIO(data))
