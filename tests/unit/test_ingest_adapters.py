"""The GX adapter (suites from conf/expectations, failures summarised) and the `shopgraph ingest` command."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

import polars as pl
import pytest
from ingest_frames import DAY, events, products, users
from typer.testing import CliRunner

from shopgraph.adapters.expectations import GxSession, generic_suite, load_suite_config
from shopgraph.adapters.lake import lake_path, landing_partition, parquet_bytes, part_name, write_bytes
from shopgraph.cli import app
from shopgraph.domain.ingest.profile import BAD_ROW_SHARE, partition_profile, validation_frame
from shopgraph.schemas import landing as L
from shopgraph.settings import REPO_ROOT

pytestmark = pytest.mark.unit

SUITES = REPO_ROOT / "conf" / "expectations"


def local_file(url: str) -> Path:
    return Path(unquote(urlparse(url).path))


@pytest.mark.parametrize("table", [*L.LANDING_SCHEMAS, *L.IMPORTED_SCHEMAS])
def test_every_table_has_a_suite_with_the_threshold_filled_in(table: str) -> None:
    suite = load_suite_config(SUITES, table, max_bad_row_share=0.07)
    assert (SUITES / f"{table}.json").exists()
    shares = [e for e in suite["expectations"] if e["kwargs"].get("column") == BAD_ROW_SHARE]
    assert shares and shares[0]["kwargs"]["max_value"] == 0.07
    columns = suite["expectations"][0]["kwargs"]["column_set"]
    assert set(L.LANDING_KEYS[table]) <= set(columns)


def test_a_table_without_a_suite_file_gets_a_generic_one(tmp_path: Path) -> None:
    suite = load_suite_config(tmp_path, L.KG_TRIPLES, max_bad_row_share=0.3)
    assert suite == load_suite_config(tmp_path, L.KG_TRIPLES, max_bad_row_share=0.3)
    assert suite["name"] == generic_suite(L.KG_TRIPLES)["name"]


def test_validation_names_the_failed_expectation_and_builds_docs(tmp_path: Path) -> None:
    curated = products([{L.PRODUCT_ID: "P1"}, {L.PRODUCT_ID: "P2", L.PRICE: -1.0}])
    profile = partition_profile(2, curated, (L.PRODUCT_ID,))
    session = GxSession(str(tmp_path / "docs"))
    summary = session.validate(
        validation_frame(curated, profile, max_rows=100),
        load_suite_config(SUITES, L.PRODUCTS, max_bad_row_share=0.5),
        run_name="products-dt=2026-01-02",
    )
    assert not summary.success
    assert summary.first_failure().startswith("expect_column_values_to_be_between(price): 1 unexpected")
    index = session.build_docs()
    assert index is not None and local_file(index).exists()
    assert summary.docs is not None and local_file(summary.docs).exists()


def test_ingest_command_prints_a_summary_and_fails_in_one_line(tmp_path: Path, monkeypatch) -> None:
    root = str(tmp_path / "lake")
    monkeypatch.setenv("SHOPGRAPH_LAKE__ROOT", root)
    monkeypatch.setenv("SHOPGRAPH_INGEST__DATA_DOCS", "false")
    for table, frame in (
        (L.PRODUCTS, products([{L.PRODUCT_ID: "P00000001"}])),
        (L.USERS, users([{L.USER_ID: "U00000001"}])),
        (L.EVENTS, events([{}]).drop(L.QUERY)),
    ):
        write_bytes(lake_path(landing_partition(root, table, DAY), part_name(0)), parquet_bytes(frame))
    runner = CliRunner()
    result = runner.invoke(
        app, ["ingest", "--date", DAY.isoformat(), "--now", "2026-03-01"], terminal_width=200
    )
    assert "products" in result.output and "ok" in result.output
    assert isinstance(result.exception, Exception)
    assert "ingest events dt=2026-01-02 failed expect_table_columns_to_match_set" in str(result.exception)
    assert pl.read_parquet(lake_path(root, "curated", "users", "current", part_name(0))).height == 1


def test_partitions_of_one_table_share_a_suite_but_keep_their_own_result_and_page(tmp_path: Path) -> None:
    session = GxSession(str(tmp_path / "docs"))
    suite = load_suite_config(SUITES, L.PRODUCTS, max_bad_row_share=0.5)
    summaries = []
    for day, price in (("2026-01-02", 3.0), ("2026-01-03", -1.0), ("2026-01-04", 4.0)):
        curated = products([{L.PRODUCT_ID: "P1"}, {L.PRODUCT_ID: "P2", L.PRICE: price}])
        frame = validation_frame(curated, partition_profile(2, curated, (L.PRODUCT_ID,)), max_rows=100)
        summaries.append(session.validate(frame, suite, run_name=f"products-dt={day}"))
    assert [s.success for s in summaries] == [True, False, True]
    assert len({s.suite for s in summaries}) == 1
    assert len({s.docs for s in summaries}) == 3
    session.build_docs()
    assert all(s.docs is not None and local_file(s.docs).exists() for s in summaries)
