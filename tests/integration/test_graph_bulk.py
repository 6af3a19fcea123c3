"""Bulk load: a neo4j-admin import of folded days equals the incremental load, which then carries on."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from graph_inputs import DIMENSION, graph_snapshot, small_shop, wipe_graph

from shopgraph.adapters.graph_bulk import bulk_load
from shopgraph.adapters.graph_loader import LoadOptions, graph_counts, load_days, read_manifest
from shopgraph.adapters.graph_schema import apply_schema
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.adapters.lake import lake_path, read_parquet, write_parquet
from shopgraph.domain import graph_rows as G
from shopgraph.domain.dates import partition_name
from shopgraph.schemas import landing as L
from shopgraph.services.process import ServiceError
from shopgraph.settings import Settings, load_settings

DB = "neo4j"
OPTIONS = LoadOptions(batch_size=500, top_k=5)


def add_change_day(lake: str, days: list[date], pick: int = 0) -> date:
    """One more curated day with what a fold can get wrong: a product and a user tombstoned, a product
    updated (brand dropped), a stale older version, a newcomer, ratings, and events of the deleted user.
    """
    day = days[-1] + timedelta(days=1)
    stamp = datetime(day.year, day.month, day.day, 1, 0, tzinfo=UTC)
    current_path = lake_path(lake, "curated", "products", "current", "part-00000.parquet")
    current = read_parquet(current_path)
    events = pl.concat(read_parquet(str(path)) for path in Path(lake, "curated", "events").rglob("*.parquet"))
    generated = ~pl.col(L.EVENT_ID).str.starts_with("E-bulk")
    viewed = events.filter(generated & (pl.col(L.EVENT_TYPE) == L.VIEW)).sort(L.EVENT_ID)
    gone, user = viewed.row(pick, named=True)[L.PRODUCT_ID], viewed.row(pick, named=True)[L.USER_ID]
    others = current.filter(pl.col(L.PRODUCT_ID) != gone).with_columns(pl.lit(False).alias(L.IS_DELETED))
    update = others.row(pick, named=True) | {L.BRAND: None, L.PRICE: 1.25, L.UPDATED_AT: stamp}
    stale = others.row(pick + 1, named=True) | {
        L.TITLE: "Old title",
        L.UPDATED_AT: datetime(2000, 1, 1, tzinfo=UTC),
    }
    newcomer = update | {L.PRODUCT_ID: f"P9999999{pick}", L.BRAND: "Newco", L.DESCRIPTION: 'say "hi",\nbye'}
    tombstone = dict.fromkeys(L.PRODUCTS_SCHEMA) | {
        L.PRODUCT_ID: gone,
        L.IS_DELETED: True,
        L.UPDATED_AT: stamp,
    }
    folder = partition_name(day)
    write_parquet(
        pl.DataFrame([update, stale, newcomer, tombstone], schema=L.PRODUCTS_SCHEMA),
        lake_path(lake, "curated", "products", "changes", folder, "part-00000.parquet"),
    )
    write_parquet(
        pl.DataFrame(
            [dict.fromkeys(L.USERS_SCHEMA) | {L.USER_ID: user, L.IS_DELETED: True, L.UPDATED_AT: stamp}],
            schema=L.USERS_SCHEMA,
        ),
        lake_path(lake, "curated", "users", "changes", folder, "part-00000.parquet"),
    )
    raters = viewed.filter(pl.col(L.USER_ID) != user).head(3)
    rows = [
        {
            L.EVENT_ID: f"E-bulk-{pick}-{i}",
            L.USER_ID: who,
            L.PRODUCT_ID: what,
            L.EVENT_TYPE: kind,
            L.TS: stamp + timedelta(minutes=i),
            L.SESSION_ID: "S-bulk",
            L.RATING: rating,
        }
        for i, (who, what, kind, rating) in enumerate(
            [(u, p, L.RATE, 2 + i) for i, (u, p) in enumerate(raters.select(L.USER_ID, L.PRODUCT_ID).rows())]
            + [(raters.row(0)[0], gone, L.RATE, 5), (user, update[L.PRODUCT_ID], L.VIEW, None)]
            + [(raters.row(0)[0], newcomer[L.PRODUCT_ID], L.VIEW, None)]
        )
    ]
    write_parquet(
        pl.DataFrame(rows, schema=L.EVENTS_SCHEMA),
        lake_path(lake, "curated", "events", folder, "part-00000.parquet"),
    )
    write_parquet(current.filter(pl.col(L.PRODUCT_ID) != gone), current_path)
    return day


def test_bulk_load_refuses_an_external_server(tmp_path: Path) -> None:
    settings = load_settings(
        home=tmp_path, neo4j={"uri": "bolt://127.0.0.1:1", "managed": False, "password": "secret-pw"}
    )
    with pytest.raises(ServiceError, match="external server"):
        bulk_load(settings, str(tmp_path / "lake"), [], OPTIONS)


@pytest.mark.integration
@pytest.mark.slow
def test_bulk_load_equals_the_incremental_load_and_later_days_load_on_top(
    neo4j_settings: Settings, tmp_path: Path
) -> None:
    if not neo4j_settings.neo4j.managed:
        pytest.skip("needs the Neo4j that the tests manage (bulk load stops it and rewrites its store)")
    lake = str(tmp_path / "incremental" / "lake")
    days = small_shop(lake, products=200, users=60, days=3)
    days.append(add_change_day(lake, days, pick=0))
    days.append(add_change_day(lake, days, pick=1))
    with neo4j_driver(neo4j_settings) as driver:
        wipe_graph(driver)
        apply_schema(driver, DB, DIMENSION)
        load_days(driver, DB, lake, days[:-1], OPTIONS)
        before_last = graph_snapshot(driver)
        load_days(driver, DB, lake, days[-1:], OPTIONS)
        incremental = graph_snapshot(driver)
    # A copy with every day's manifest: the bulk load must drop the last day's, which it does not import.
    bulk_lake = str(tmp_path / "bulk" / "lake")
    shutil.copytree(lake, bulk_lake)
    nodes, rels = before_last
    # The folded days hold what a fold can get wrong: tombstones, updates, ratings, similar products.
    assert any(("active", False) in props for labels, _, props in nodes if labels == ("Product",))
    assert {"VIEWED", "RATED", "HAS_ATTRIBUTE", "SIMILAR_TO", "SUBCATEGORY_OF"} <= {rel[1] for rel in rels}

    report = bulk_load(neo4j_settings, bulk_lake, days[:-1], OPTIONS)
    with neo4j_driver(neo4j_settings) as driver:
        assert graph_snapshot(driver) == before_last
        counts = graph_counts(driver, DB)
        offline = driver.execute_query(
            "SHOW INDEXES YIELD name, state WHERE state <> 'ONLINE' RETURN name", database_=DB
        ).records
        assert offline == []
        assert report.total("nodes") == sum(counts[label] for label in G.NODE_LABELS - {G.SCHEMA_VERSION})
        assert report.total("relationships") == sum(counts[rel_type] for rel_type in G.RELATIONSHIP_TYPES)
        assert all(read_manifest(bulk_lake, day) is not None for day in days[:-1])
        # The next day loads incrementally on top of the imported graph.
        later = load_days(driver, DB, bulk_lake, days, OPTIONS)
        assert later.skipped == [day.isoformat() for day in days[:-1]]
        assert later.days == [days[-1].isoformat()]
        assert graph_snapshot(driver) == incremental
        wipe_graph(driver)
