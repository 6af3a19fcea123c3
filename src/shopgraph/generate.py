"""Streaming shop writer: drives the domain generator day by day, writing landing and truth files."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime

import numpy as np
import polars as pl

from shopgraph.adapters.lake import (
    LANDING,
    TRUTH,
    lake_path,
    landing_partition,
    parquet_bytes,
    part_name,
    relative_path,
    remove_tree,
    write_bytes,
    write_parquet,
    write_text,
)
from shopgraph.domain.dates import partition_name
from shopgraph.domain.generator.catalog import (
    Catalog,
    listing_frames,
    plan_catalog,
    product_ids,
    product_truth_frame,
    tombstone_frame,
)
from shopgraph.domain.generator.changes import apply_product_changes, apply_user_changes
from shopgraph.domain.generator.faults import (
    Fault,
    corrupt_parquet,
    drift_price_to_text,
    fault_frame,
    fault_kinds,
    inject_row_faults,
)
from shopgraph.domain.generator.queries import judgment_frames
from shopgraph.domain.generator.reviews import Feedback, plan_feedback, review_frames
from shopgraph.domain.generator.rng import stream
from shopgraph.domain.generator.sessions import Ratings, events_frame, rating_events, simulate_sessions
from shopgraph.domain.generator.shelf import stock_shelf
from shopgraph.domain.generator.users import (
    DAY_US,
    Population,
    plan_users,
    user_frame,
    user_ids,
    user_taste_frame,
)
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T

Progress = Callable[[str, int, int], None]

GENERATOR_VERSION = 1
PRODUCT_PART_ROWS = 50_000
USER_PART_ROWS = 250_000
EVENT_USER_CHUNK = 50_000
TRUTH_PART_ROWS = 250_000
CHANGE_WINDOW_US = 3_600_000_000
FEEDBACK_FROM_US, FEEDBACK_TO_US = 8 * 3_600_000_000, 23 * 3_600_000_000
MANIFEST = "manifest.json"


def queries_per_day(products: int) -> int:
    """Judged queries per day: enough to evaluate search, growing with the catalog up to 200."""
    return int(min(200, max(10, products // 100)))


@dataclass(frozen=True)
class GenerateSummary:
    """What a generation wrote: rows and files per landing table, where they are, and the fault record."""

    lake: str
    seed: int
    dirty: bool
    start_date: date
    days: int
    rows: dict[str, int]
    files: dict[str, int]
    paths: dict[str, str]
    truth: str
    fault_record: str | None
    faults: int

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict (the lake root left out, so the manifest does not depend on where it is)."""
        data = asdict(self)
        data.pop("lake")
        data["start_date"] = self.start_date.isoformat()
        data["paths"] = {table: relative_path(self.lake, path) for table, path in self.paths.items()}
        data["truth"] = TRUTH
        data["fault_record"] = relative_path(self.lake, self.fault_record) if self.fault_record else None
        return data


@dataclass
class _LakeWriter:
    """Writes landing parts (with faults when dirty) and truth parts, and counts what it wrote."""

    lake: str
    seed: int
    dirty: bool
    drift_day: int
    corrupt_from_day: int
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(L.LANDING_SCHEMAS, 0))
    files: dict[str, int] = field(default_factory=lambda: dict.fromkeys(L.LANDING_SCHEMAS, 0))
    faults: list[pl.DataFrame] = field(default_factory=list)
    injected: set[tuple[str, str, str]] = field(default_factory=set)
    corrupted: bool = False
    drifted: bool = False

    def landing(self, table: str, day: date, day_index: int, part: int, frame: pl.DataFrame) -> str:
        path = lake_path(landing_partition(self.lake, table, day), part_name(part))
        if self.dirty:
            frame, data = self._with_faults(table, day, day_index, part, frame, path)
        else:
            data = parquet_bytes(frame)
        write_bytes(path, data)
        self.rows[table] += frame.height
        self.files[table] += 1
        return path

    def _with_faults(
        self, table: str, day: date, day_index: int, part: int, frame: pl.DataFrame, path: str
    ) -> tuple[pl.DataFrame, bytes]:
        rng = stream(self.seed, "faults", table, day_index, part)
        faults: list[Fault] = []
        if table == L.EVENTS and not self.corrupted and day_index >= self.corrupt_from_day:
            # A corrupt file loses all its rows, so it gets no row-level faults of its own.
            data, fault = corrupt_parquet(parquet_bytes(frame), rng)
            self.corrupted = True
            self.faults.append(fault_frame(table, day, relative_path(self.lake, path), [fault]))
            return frame, data
        owed = {
            (kind, column)
            for kind, column in fault_kinds(table)
            if (table, kind, column) not in self.injected
        }
        frame, faults = inject_row_faults(frame, table, rng, day=day, owed=owed)
        self.injected.update((table, f.kind, f.column or "") for f in faults)
        if table == L.PRODUCTS and not self.drifted and day_index >= self.drift_day:
            frame, fault = drift_price_to_text(frame, rng)
            faults.insert(0, fault)
            self.drifted = True
        self.faults.append(fault_frame(table, day, relative_path(self.lake, path), faults))
        return frame, parquet_bytes(frame)

    def truth(self, name: str, frame: pl.DataFrame, day: date | None = None, part: int = 0) -> str:
        folder = (
            lake_path(self.lake, TRUTH, name, partition_name(day))
            if day
            else lake_path(self.lake, TRUTH, name)
        )
        return write_parquet(frame, lake_path(folder, part_name(part)))


def _chunks(indices: np.ndarray, size: int) -> list[np.ndarray]:
    return [indices[start : start + size] for start in range(0, indices.size, size)] or [indices[:0]]


def _change_times(rng: np.random.Generator, day_start_us: int, count: int) -> np.ndarray:
    # Change sets are exported in the first hour of the day, in key order.
    return day_start_us + np.sort(rng.integers(0, CHANGE_WINDOW_US, count))


def _write_products(
    writer: _LakeWriter,
    catalog: Catalog,
    day: date,
    day_index: int,
    day_start_us: int,
    progress: Progress | None,
) -> None:
    rng = stream(writer.seed, "products", day_index)
    changes = apply_product_changes(catalog, day_index, rng)
    upserts = changes.upserts
    deleted = changes.deleted
    rows = np.concatenate([upserts, deleted])
    tombstone = np.concatenate([np.zeros(upserts.size, dtype=bool), np.ones(deleted.size, dtype=bool)])
    order = np.argsort(rows, kind="stable")
    rows, tombstone = rows[order], tombstone[order]
    times = _change_times(rng, day_start_us, rows.size)
    parts = _chunks(np.arange(rows.size), PRODUCT_PART_ROWS)
    for part, positions in enumerate(parts):
        live = positions[~tombstone[positions]]
        gone = positions[tombstone[positions]]
        products, entities = listing_frames(catalog, rows[live], times[live])
        tombstones = tombstone_frame(product_ids(rows[gone]), times[gone], L.PRODUCTS_SCHEMA, L.PRODUCT_ID)
        frame = pl.concat([products, tombstones]).sort(L.PRODUCT_ID, maintain_order=True)
        if frame.height:
            writer.landing(L.PRODUCTS, day, day_index, part, frame)
            writer.truth(T.PRODUCT_ENTITIES, entities, day, part)
        if progress is not None:
            progress(f"products {day.isoformat()}", part + 1, len(parts))


def _write_users(
    writer: _LakeWriter, population: Population, day: date, day_index: int, day_start_us: int
) -> None:
    rng = stream(writer.seed, "users", day_index)
    changes = apply_user_changes(population, day_index, rng)
    upserts = changes.upserts
    times = _change_times(rng, day_start_us, upserts.size + changes.deleted.size)
    live = user_frame(population, upserts, times[: upserts.size])
    gone = tombstone_frame(user_ids(changes.deleted), times[upserts.size :], L.USERS_SCHEMA, L.USER_ID)
    frame = pl.concat([live, gone]).sort(L.USER_ID, maintain_order=True)
    for part, positions in enumerate(_chunks(np.arange(frame.height), USER_PART_ROWS)):
        if positions.size:
            writer.landing(L.USERS, day, day_index, part, frame[int(positions[0]) : int(positions[-1]) + 1])


def generate_shop(
    lake: str,
    *,
    products: int,
    users: int,
    days: int,
    start_date: date,
    seed: int,
    dirty: bool = False,
    progress: Progress | None = None,
) -> GenerateSummary:
    """Generate a synthetic shop into lake/landing and its hidden truth into lake/truth; returns a summary.

    The same arguments give byte-identical files. Previous landing tables and truth under the lake are
    replaced. Memory stays bounded: products are rendered and events simulated part by part, day by day.
    progress, when given, is called as progress(step, done, total).
    """
    for name, value in (("products", products), ("users", users), ("days", days)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    for table in L.LANDING_SCHEMAS:
        remove_tree(lake_path(lake, LANDING, table))
    remove_tree(lake_path(lake, TRUTH))

    start_us = int(datetime(start_date.year, start_date.month, start_date.day, tzinfo=UTC).timestamp() * 1e6)
    catalog = plan_catalog(products, days, stream(seed, "catalog"))
    population = plan_users(users, days, start_us, stream(seed, "population"))
    writer = _LakeWriter(lake, seed, dirty, drift_day=min(1, days - 1), corrupt_from_day=days // 2)
    pending = Feedback.empty()
    chunks = (len(population) + EVENT_USER_CHUNK - 1) // EVENT_USER_CHUNK
    for day_index in range(days):
        day = date.fromordinal(start_date.toordinal() + day_index)
        day_start_us = start_us + day_index * DAY_US
        stem = day.strftime("%Y%m%d") + "-"
        _write_products(writer, catalog, day, day_index, day_start_us, progress if day_index == 0 else None)
        _write_users(writer, population, day, day_index, day_start_us)

        shelf = stock_shelf(catalog, day_index)
        due = pending.select(pending.due_day == day_index)
        pending = pending.select(pending.due_day > day_index)
        due = due.select(
            (catalog.deleted_day[due.product] > day_index) & (population.deleted_day[due.user] > day_index)
        )
        feedback_rng = stream(seed, "feedback-times", day_index)
        due_offsets = feedback_rng.integers(FEEDBACK_FROM_US, FEEDBACK_TO_US, len(due))
        part = 0
        for chunk in range(chunks):
            members = np.arange(
                chunk * EVENT_USER_CHUNK, min((chunk + 1) * EVENT_USER_CHUNK, len(population))
            )
            rng = stream(seed, "events", day_index, chunk)
            sessions, queries, purchases = simulate_sessions(
                catalog, shelf, population, members, day_index, rng
            )
            mine = (due.user >= members[0]) & (due.user <= members[-1])
            ratings = Ratings(due.user[mine], due.product[mine], due.rating[mine], due_offsets[mine])
            events = events_frame(
                sessions, queries, rating_events(ratings, len(queries)), day_start_us, f"{stem}{chunk:02d}-"
            )
            if events.height:
                writer.landing(L.EVENTS, day, day_index, part, events)
                part += 1
            pending = pending.concat(
                plan_feedback(catalog, purchases, day_index, stream(seed, "feedback", day_index, chunk))
            )
        reviews, review_truth = review_frames(
            catalog, due, day_start_us + due_offsets, stem, stream(seed, "reviews", day_index)
        )
        if reviews.height:
            writer.landing(L.REVIEWS, day, day_index, 0, reviews)
            writer.truth(T.REVIEW_TRUTH, review_truth, day)
        judgments, intents = judgment_frames(
            catalog,
            shelf,
            queries_per_day(products),
            stem,
            day_start_us,
            stream(seed, "judgments", day_index),
        )
        writer.landing(L.SEARCH_JUDGMENTS, day, day_index, 0, judgments)
        writer.truth(T.QUERY_INTENTS, intents, day)
        if progress is not None:
            progress("days", day_index + 1, days)

    product_truth = product_truth_frame(catalog, start_date)
    for part, positions in enumerate(_chunks(np.arange(product_truth.height), TRUTH_PART_ROWS)):
        writer.truth(T.PRODUCT_TRUTH, product_truth[int(positions[0]) : int(positions[-1]) + 1], part=part)
    writer.truth(T.USER_TASTES, user_taste_frame(population, start_date))
    fault_record = None
    fault_count = 0
    if dirty:
        faults = pl.concat(writer.faults) if writer.faults else pl.DataFrame(schema=T.FAULTS_SCHEMA)
        fault_record = write_parquet(faults, lake_path(lake, TRUTH, f"{T.FAULTS}.parquet"))
        fault_count = faults.height
    summary = GenerateSummary(
        lake=lake,
        seed=seed,
        dirty=dirty,
        start_date=start_date,
        days=days,
        rows=writer.rows,
        files=writer.files,
        paths={table: lake_path(lake, LANDING, table) for table in L.LANDING_SCHEMAS},
        truth=lake_path(lake, TRUTH),
        fault_record=fault_record,
        faults=fault_count,
    )
    manifest = {
        "generator_version": GENERATOR_VERSION,
        "products": products,
        "users": users,
        **summary.to_json(),
    }
    write_text(lake_path(lake, TRUTH, MANIFEST), json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return summary
