"""Importers on the real public datasets in ../shared/datasets (skipped when the folder is absent)."""

from __future__ import annotations

import gzip
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from shopgraph.adapters.lake import (
    landing_files,
    landing_partitions,
    partition_day,
    read_parquet,
    read_parquet_schema,
)
from shopgraph.importers.common import ImportResult
from shopgraph.importers.runner import run_import
from shopgraph.importers.writer import WrittenImport
from shopgraph.ingestion.pipeline import IngestOptions, ingest_range
from shopgraph.ingestion.pipeline import landing_tables as landing_tables_of
from shopgraph.schemas import landing as L
from shopgraph.settings import REPO_ROOT

pytestmark = pytest.mark.realdata

DATASETS = Path(os.environ.get("SHOPGRAPH_DATASETS", REPO_ROOT.parent / "shared" / "datasets"))
MAPPINGS = REPO_ROOT / "conf" / "mappings"


def dataset(name: str) -> Path:
    folder = DATASETS / name
    if not folder.is_dir():
        pytest.skip(f"real dataset {folder} is absent")
    return folder


def landing_tables(lake: Path) -> dict[str, pl.DataFrame]:
    """Every landing file read back after checking its schema, keys (non-null, unique), required columns."""
    tables: dict[str, pl.DataFrame] = {}
    for table in L.LANDING_SCHEMAS | L.IMPORTED_SCHEMAS:
        frames = []
        for path in landing_files(str(lake), table):
            L.check_schema(read_parquet_schema(path), table, path)
            frame = read_parquet(path)
            keys = list(L.LANDING_KEYS[table])
            assert frame.select(keys).null_count().sum_horizontal().item() == 0, path
            assert not frame.select(keys).is_duplicated().any(), path
            required = [c for c in frame.columns if c not in L.LANDING_NULLABLE[table]]
            assert frame.select(required).null_count().sum_horizontal().item() == 0, path
            frames.append(frame)
        if frames:
            tables[table] = pl.concat(frames)
    return tables


def assert_references_resolve(tables: dict[str, pl.DataFrame]) -> None:
    products = tables[L.PRODUCTS][L.PRODUCT_ID].implode()
    for table in (L.EVENTS, L.REVIEWS, L.SEARCH_JUDGMENTS, L.ENTITY_LINKS):
        if table in tables:
            assert tables[table][L.PRODUCT_ID].is_in(products).all(), table
    if L.USERS in tables:
        users = tables[L.USERS][L.USER_ID].implode()
        for table in (L.EVENTS, L.REVIEWS):
            if table in tables:
                assert tables[table][L.USER_ID].is_in(users).all(), table


def timed_import(
    format_name: str, source: Path, lake: Path, mapping: Path | None = None, namespace: str | None = None
) -> tuple[ImportResult, WrittenImport]:
    """run_import, printing its wall time (shown with pytest -s; never asserted)."""
    started = time.perf_counter()
    mapping_path = str(mapping) if mapping else None
    result, written = run_import(format_name, str(source), str(lake), mapping_path, namespace=namespace)
    print(f"\nimport {format_name} {source.name}: {time.perf_counter() - started:.2f} s")
    return result, written


def test_crowdflower_relevance_csv(tmp_path: Path) -> None:
    source = dataset("crowdflower") / "train.csv"
    rows = pl.read_csv(source)
    assert rows.height == 10_158 and rows["query"].n_unique() == 261
    result, _ = timed_import("relevance-csv", source, tmp_path, MAPPINGS / "crowdflower.yaml")
    tables = landing_tables(tmp_path)
    judgments = tables[L.SEARCH_JUDGMENTS]
    assert judgments.height == rows.height - result.report.dropped(L.SEARCH_JUDGMENTS)
    assert judgments[L.QUERY_ID].n_unique() == 261
    assert {p.rule for p in result.report.problems} <= {"duplicate judgment"}
    assert judgments[L.RELEVANCE].min() == 0 and judgments[L.RELEVANCE].max() == 3
    # a product is its text: as many products as distinct (title, description) pairs
    assert tables[L.PRODUCTS].height == rows.select("product_title", "product_description").n_unique()
    assert_references_resolve(tables)


def test_ml_100k_recbole(tmp_path: Path) -> None:
    folder = dataset("ml-100k-kg")
    result, _ = timed_import("recbole", folder, tmp_path)
    tables = landing_tables(tmp_path)
    report = result.report
    counts = {
        L.EVENTS: ("ml-100k.inter", 100_000),
        L.USERS: ("ml-100k.user", 943),
        L.PRODUCTS: ("ml-100k.item", 1_682),
        L.KG_TRIPLES: ("ml-100k.kg", 91_631),
        L.ENTITY_LINKS: ("ml-100k.link", None),
    }
    for table, (name, expected) in counts.items():
        source_rows = sum(1 for _ in (folder / name).open(encoding="utf-8")) - 1  # minus the typed header
        if expected is not None:
            assert source_rows == expected, name
        assert tables[table].height == source_rows - report.dropped(table), table
    events = tables[L.EVENTS]
    assert set(events[L.EVENT_TYPE]) == {L.RATE} and events[L.RATING].is_between(1, 5).all()
    assert events[L.TS].dt.year().is_between(1997, 1998).all()
    titles = set(tables[L.PRODUCTS][L.TITLE])
    assert {"Mr. Holland's Opus", "Misérables, Les"} <= titles  # quotes and accents survive as written
    assert_references_resolve(tables)
    linked = tables[L.ENTITY_LINKS][L.ENTITY_ID].implode()
    kg = tables[L.KG_TRIPLES]
    assert kg[L.HEAD_ENTITY].is_in(linked).any()


def test_amazon_fashion_reviews(tmp_path: Path) -> None:
    source = dataset("amazon-fashion-5core-2018") / "AMAZON_FASHION_5.json.gz"
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        lines = sum(1 for line in handle if line.strip())
    assert lines == 3_176
    result, _ = timed_import("amazon-reviews", source, tmp_path, namespace="amazon-fashion")
    tables = landing_tables(tmp_path)
    assert tables[L.EVENTS].height == lines - result.report.dropped(L.EVENTS)
    assert tables[L.REVIEWS].height == lines - result.report.dropped(L.REVIEWS)
    assert tables[L.REVIEWS].height > 3_000
    assert tables[L.USERS].height == 406 and tables[L.PRODUCTS].height == 31
    assert_references_resolve(tables)


def test_flipkart_catalog_csv(tmp_path: Path) -> None:
    source = dataset("flipkart-products") / "product.csv"
    rows = pl.read_csv(source)
    assert rows.height == 1_002
    result, _ = timed_import("catalog-csv", source, tmp_path, MAPPINGS / "flipkart.yaml")
    products = landing_tables(tmp_path)[L.PRODUCTS]
    assert products.height == rows.height - result.report.dropped(L.PRODUCTS)
    assert products[L.BRAND].null_count() == rows["brand"].null_count()
    assert (products[L.ATTRIBUTES].list.len() > 0).mean() > 0.9  # type: ignore[operator]
    assert products[L.CATEGORY_PATH].str.contains(" > ").mean() > 0.9  # type: ignore[operator]
    assert products[L.COLOUR].drop_nulls().len() > 100
    assert (products[L.PRICE].drop_nulls() > 0).all()


def ingest_all(lake: Path) -> list[dict[str, Any]]:
    """Every landing partition through ingestion (rules and GX) with default options."""
    tables = landing_tables_of(str(lake))
    days = sorted(
        {partition_day(folder) for table in tables for folder in landing_partitions(str(lake), table)}
    )
    results = ingest_range(
        str(lake), tables, days, now=datetime(2026, 6, 1, tzinfo=UTC), options=IngestOptions()
    )
    return [result for result in results if result["status"] != "absent"]


@pytest.mark.parametrize(
    ("dataset_name", "format_name", "source", "mapping"),
    [
        ("crowdflower", "relevance-csv", "train.csv", "crowdflower.yaml"),
        ("flipkart-products", "catalog-csv", "product.csv", "flipkart.yaml"),
    ],
)
def test_imported_real_data_passes_ingestion_whole(
    tmp_path: Path, dataset_name: str, format_name: str, source: str, mapping: str
) -> None:
    """Importer conventions (namespaced ids, INR prices, null prices, 'Uncategorised') are what the
    ingestion rules and expectation suites accept: every imported row is curated, none quarantined."""
    timed_import(format_name, dataset(dataset_name) / source, tmp_path, MAPPINGS / mapping)
    results = ingest_all(tmp_path)
    assert results and all(result["status"] == "ok" for result in results), results
    for result in results:
        assert result["rows"]["curated"] == result["rows"]["in"] > 0, result
        assert result["rows"]["quarantined"] == 0, result


def test_rerun_of_a_real_import_changes_nothing(tmp_path: Path) -> None:
    folder = dataset("ml-100k-kg")
    _, first = run_import("recbole", str(folder), str(tmp_path))
    before = {path: Path(path).stat().st_size for files in first.files.values() for path in files}
    _, second = run_import("recbole", str(folder), str(tmp_path))
    after = {path: Path(path).stat().st_size for files in second.files.values() for path in files}
    assert before == after and not second.removed
    assert len(list(tmp_path.rglob("*.parquet"))) == len(before)
