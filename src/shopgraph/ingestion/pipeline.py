"""Ingest one table partition: read landing, apply the rules, validate with GX, write curated/quarantine,
record the manifest; skip partitions whose inputs did not change."""

from __future__ import annotations

import hashlib
import io
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl

from shopgraph.adapters.expectations import GxSession, load_suite_config
from shopgraph.adapters.lake import (
    filesystem,
    landing_partition,
    part_name,
    partition_files,
    read_bytes,
    relative_path,
    write_text,
)
from shopgraph.domain.ingest import reasons as R
from shopgraph.domain.ingest.casting import (
    CastPlan,
    IncompatibleTypeError,
    apply_casts,
    plan_casts,
    raw_column,
)
from shopgraph.domain.ingest.curate import CuratedPartition, curate_partition
from shopgraph.domain.ingest.profile import partition_profile, validation_frame
from shopgraph.domain.ingest.tables import TableRules, table_rules
from shopgraph.errors import ShopgraphError
from shopgraph.ingestion import layout
from shopgraph.ingestion.storage import (
    LandingFile,
    known_keys,
    parquet_parts,
    read_landing_file,
    rebuild_current,
    replace_folder,
)
from shopgraph.schemas import landing as L
from shopgraph.settings import REPO_ROOT, Settings

# Bump when a rule changes what is curated, so unchanged inputs are ingested again.
RULES_VERSION = 1
OK, PARTIAL, FAILED, SKIPPED, ABSENT = "ok", "partial", "failed", "skipped", "absent"


class IngestError(ShopgraphError):
    """A partition failed a table-level rule; the message names table, partition, expectation and file."""

    def __init__(self, table: str, day: date, expectation: str, detail: str) -> None:
        self.table, self.day, self.expectation = table, day, expectation
        super().__init__(f"ingest {table} dt={day.isoformat()} failed {expectation}: {detail}")


@dataclass(frozen=True)
class IngestOptions:
    """Knobs of one ingestion run (from IngestSettings)."""

    max_bad_row_share: float = 0.2
    bad_share_min_rows: int = 50
    max_text_chars: int = 20_000
    gx_sample_rows: int = 50_000
    part_rows: int = 1_000_000
    expectations_dir: Path = REPO_ROOT / "conf" / "expectations"
    docs_dir: str | None = None
    corrupt_files: str = "quarantine"

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestOptions:
        """Options from settings.ingest; Data Docs under <lake>/docs/gx unless docs_dir says otherwise."""
        ingest = settings.ingest
        docs_dir: str | None = ingest.docs_dir or None
        if docs_dir is None and ingest.data_docs:
            root = settings.lake_root
            docs_dir = f"{root}/docs/gx" if "://" not in root else str(settings.home / "data_docs")
        expectations = Path(ingest.expectations_dir)
        return cls(
            max_bad_row_share=ingest.max_bad_row_share,
            bad_share_min_rows=ingest.bad_share_min_rows,
            max_text_chars=ingest.max_text_chars,
            gx_sample_rows=ingest.gx_sample_rows,
            part_rows=ingest.curated_part_rows,
            expectations_dir=expectations if expectations.is_absolute() else REPO_ROOT / expectations,
            docs_dir=docs_dir if ingest.data_docs else None,
            corrupt_files=ingest.corrupt_files,
        )


@dataclass
class _Timer:
    started: float = field(default_factory=time.perf_counter)
    durations: dict[str, float] = field(default_factory=dict)
    _last: float = field(default_factory=time.perf_counter)

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.durations[name] = round(self.durations.get(name, 0.0) + now - self._last, 4)
        self._last = now

    def total(self) -> dict[str, float]:
        return {**self.durations, "total": round(time.perf_counter() - self.started, 4)}


def read_manifest(root: str, table: str, day: date) -> dict[str, Any] | None:
    """The ingest manifest of a partition, None when it was never ingested."""
    path = layout.manifest_path(root, table, day)
    fs, target = filesystem(path)
    if not fs.exists(target):
        return None
    loaded: dict[str, Any] = json.loads(read_bytes(path))
    return loaded


def _references(root: str, rules: TableRules, day: date) -> dict[str, pl.Series]:
    known: dict[str, pl.Series] = {}
    for table in sorted(set(rules.references.values())):
        key = L.LANDING_KEYS[table][0]
        keys = known_keys(layout.curated_changes(root, table), key, day)
        if keys is None:
            raise IngestError(
                rules.table,
                day,
                "referential_integrity",
                f"no curated {table} up to {day.isoformat()} to check {rules.table} against; "
                f"ingest {table} first (shopgraph ingest --tables {table})",
            )
        known[table] = keys
    return known


def _digests(inputs: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(entry["file"], entry["sha256"]) for entry in inputs]


def _references_digest(known: dict[str, pl.Series]) -> str:
    digest = hashlib.sha256()
    for table, keys in sorted(known.items()):
        digest.update(table.encode())
        digest.update(str(keys.hash().sum()).encode())
        digest.update(str(keys.len()).encode())
    return digest.hexdigest()


def _load_file(
    root: str, rules: TableRules, day: date, landing: LandingFile
) -> tuple[pl.DataFrame, CastPlan]:
    source = relative_path(root, landing.path)
    frame = pl.read_parquet(io.BytesIO(landing.data))
    missing = [column for column in rules.schema if column not in frame.columns]
    extra = [column for column in frame.columns if column not in rules.schema]
    if missing or extra:
        problems = [
            f"missing columns {missing}" if missing else "",
            f"extra columns {extra}" if extra else "",
        ]
        detail = "; ".join(p for p in problems if p)
        raise IngestError(rules.table, day, "expect_table_columns_to_match_set", f"{source}: {detail}")
    try:
        plan = plan_casts(frame.schema, rules.schema, source=source)
    except IncompatibleTypeError as exc:
        raise IngestError(rules.table, day, "expect_column_values_to_be_of_type", str(exc)) from exc
    frame = apply_casts(frame.select(list(rules.schema)), rules.schema, plan)
    frame = frame.with_columns(
        pl.lit(source, pl.String).alias(R.SOURCE_FILE),
        pl.int_range(pl.len(), dtype=pl.Int64).alias(R.SOURCE_ROW),
    )
    return frame, plan


def _merge_plans(plans: list[CastPlan]) -> CastPlan:
    merged = CastPlan()
    for plan in plans:
        for column, cast in plan.casts.items():
            if column not in merged.casts:
                merged.casts[column] = cast
                merged.checks[column] = plan.checks[column]
    return merged


def _landing_frame(
    root: str, rules: TableRules, day: date, files: list[LandingFile]
) -> tuple[pl.DataFrame, CastPlan, dict[str, int]]:
    frames, plans, rows = [], [], {}
    for landing in files:
        frame, plan = _load_file(root, rules, day, landing)
        frames.append(frame)
        plans.append(plan)
        rows[landing.path] = frame.height
    plan = _merge_plans(plans)
    if not frames:
        empty = pl.DataFrame(schema=rules.schema).with_columns(
            pl.lit(None, pl.String).alias(R.SOURCE_FILE), pl.lit(None, pl.Int64).alias(R.SOURCE_ROW)
        )
        return empty, plan, rows
    frame = pl.concat(frames, how="diagonal")
    # Rows of files that did not drift keep their value as text too, so the quarantine column is whole.
    frame = frame.with_columns(
        pl.coalesce(pl.col(raw_column(column)), pl.col(column).cast(pl.String)).alias(raw_column(column))
        for column in plan.casts
    )
    return frame, plan, rows


def _quarantine_files(result: CuratedPartition, unreadable: list[LandingFile]) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    if result.quarantine.height:
        from shopgraph.adapters.lake import parquet_bytes

        files[part_name(0)] = parquet_bytes(result.quarantine)
    for landing in unreadable:
        name = landing.path.rstrip("/").rpartition("/")[2]
        files[f"{layout.CORRUPT_FILES}/{name}{layout.CORRUPT_SUFFIX}"] = landing.data
    return files


def ingest_partition(
    root: str,
    table: str,
    day: date,
    *,
    now: datetime | None = None,
    options: IngestOptions | None = None,
    force: bool = False,
    session: GxSession | None = None,
) -> dict[str, Any]:
    """Ingest landing/<table>/dt=day into the curated zone and return its manifest.

    Skips (status 'skipped') when the manifest shows the same input files, rules version and reference keys,
    unless force. A missing landing partition gives status 'absent' and writes nothing. Raises IngestError
    naming table, partition, expectation and file for a table-level failure (after writing the quarantine and
    a 'failed' manifest when rows were read); the curated partition is then left as it was. Validations
    go into `session` (whose owner builds the Data Docs once); without one, this call builds them.
    """
    options = options or IngestOptions()
    if session is None:
        own = GxSession(options.docs_dir)
        try:
            return ingest_partition(root, table, day, now=now, options=options, force=force, session=own)
        finally:
            own.build_docs()
    now = now or datetime.now(UTC)
    timer = _Timer()
    paths = partition_files(landing_partition(root, table, day))
    base: dict[str, Any] = {"table": table, "dt": day.isoformat(), "rules_version": RULES_VERSION}
    if not paths:
        return {**base, "status": ABSENT, "rows": {"in": 0, "curated": 0, "quarantined": 0}}
    try:
        rules = table_rules(table)
    except KeyError as exc:
        raise IngestError(table, day, "known_table", str(exc)) from exc
    landing = [read_landing_file(path) for path in paths]
    inputs = [{"file": relative_path(root, f.path), "sha256": f.sha256, "bytes": f.size} for f in landing]
    known = _references(root, rules, day)
    references_digest = _references_digest(known)
    previous = read_manifest(root, table, day)
    if (
        not force
        and previous is not None
        and previous.get("status") in (OK, PARTIAL)
        and previous.get("rules_version") == RULES_VERSION
        and _digests(previous.get("inputs", [])) == _digests(inputs)
        and previous.get("references_digest") == references_digest
    ):
        return {**previous, "status": SKIPPED, "previous_status": previous.get("status")}
    unreadable = [f for f in landing if f.error]
    if unreadable and options.corrupt_files == "fail":
        first = unreadable[0]
        raise IngestError(table, day, "readable_parquet", f"{relative_path(root, first.path)}: {first.error}")
    frame, plan, file_rows = _landing_frame(root, rules, day, [f for f in landing if not f.error])
    for entry, landed in zip(inputs, landing, strict=True):
        entry["rows"] = file_rows.get(landed.path)
    timer.lap("read")

    result = curate_partition(
        frame, rules, day=day, now=now, known=known, max_text_chars=options.max_text_chars, plan=plan
    )
    del frame
    timer.lap("rules")

    profile = partition_profile(result.rows_in, result.curated, rules.keys)
    # A share of a handful of rows says little: tiny partitions are not held to the threshold.
    judged = result.rows_in >= options.bad_share_min_rows
    threshold = options.max_bad_row_share if judged else 1.0
    suite = load_suite_config(options.expectations_dir, table, max_bad_row_share=threshold)
    checked = validation_frame(result.curated, profile, max_rows=options.gx_sample_rows)
    gx = session.validate(checked, suite, run_name=f"{table}-dt={day.isoformat()}")
    timer.lap("gx")

    quarantine_folder = layout.quarantine_partition(root, table, day)
    quarantine = replace_folder(quarantine_folder, _quarantine_files(result, unreadable))
    manifest: dict[str, Any] = {
        **base,
        "status": FAILED if not gx.success else PARTIAL if unreadable else OK,
        "now": now.isoformat(),
        "inputs": inputs,
        "unreadable_files": [
            {"file": relative_path(root, f.path), "error": f.error, "sha256": f.sha256} for f in unreadable
        ],
        "references_digest": references_digest,
        "references": {name: keys.len() for name, keys in known.items()},
        "rows": {
            "in": result.rows_in,
            "curated": result.curated.height,
            "quarantined": result.quarantine.height,
            "conservation": result.rows_in == result.curated.height + result.quarantine.height,
        },
        "quarantined_by_reason": result.reasons,
        "casts": plan.casts,
        "text_fixes": result.fixes,
        "gx": gx.to_json(),
        "outputs": {"quarantine": [relative_path(root, p) for p in quarantine]},
    }
    if not gx.success:
        manifest["error"] = f"expectation {gx.first_failure()}"
        manifest["durations_s"] = timer.total()
        _write_manifest(root, table, day, manifest)
        where = f" (Data Docs: {gx.docs})" if gx.docs else ""
        raise IngestError(table, day, gx.first_failure(), f"suite {gx.suite}{where}")
    curated = replace_folder(
        layout.curated_partition(root, table, day), parquet_parts(result.curated, options.part_rows)
    )
    manifest["outputs"]["curated"] = [relative_path(root, p) for p in curated]
    if rules.change_set:
        current = rebuild_current(layout.curated_changes(root, table), rules.keys[0])
        written = replace_folder(
            layout.curated_current(root, table), parquet_parts(current, options.part_rows)
        )
        manifest["outputs"]["current"] = [relative_path(root, p) for p in written]
        manifest["rows"]["current"] = current.height
    timer.lap("write")
    manifest["durations_s"] = timer.total()
    _write_manifest(root, table, day, manifest)
    return manifest


def _write_manifest(root: str, table: str, day: date, manifest: dict[str, Any]) -> None:
    body = {**manifest, "ingested_at": datetime.now(UTC).isoformat()}
    write_text(layout.manifest_path(root, table, day), json.dumps(body, indent=2, sort_keys=True) + "\n")


# Dimensions first: the reference checks of facts read the curated products and users.
TABLE_ORDER: tuple[str, ...] = (L.PRODUCTS, L.USERS, L.EVENTS, L.REVIEWS, L.SEARCH_JUDGMENTS)


def order_tables(tables: list[str]) -> list[str]:
    """Tables in ingestion order: products, users, then facts, then any other table by name."""
    known = [table for table in TABLE_ORDER if table in tables]
    return known + sorted(table for table in tables if table not in TABLE_ORDER)


def landing_tables(root: str) -> list[str]:
    """The landing tables present under root (folders landing/<table>), in ingestion order."""
    fs, base = filesystem(f"{root.rstrip('/')}/landing")
    if not fs.exists(base):
        return []
    names = [path.rstrip("/").rpartition("/")[2] for path in fs.ls(base, detail=False)]
    return order_tables([name for name in names if not name.startswith(".")])


class IngestRunError(ShopgraphError):
    """One or more partitions failed; the message lists each with its table, day and expectation."""


def stops_run(table: str) -> bool:
    """Whether a failed partition of this table stops the run: products and users do, since every later
    reference check would read an incomplete dimension; a failed fact partition does not."""
    return table in L.CHANGE_SET_TABLES


def ingest_range(
    root: str,
    tables: list[str],
    days: list[date],
    *,
    now: datetime | None = None,
    options: IngestOptions | None = None,
    force: bool = False,
) -> list[dict[str, Any]]:
    """Ingest every (table, day), dimensions first, one partition at a time; returns the manifests.

    Failed partitions are reported as manifests with status 'failed' and an error; raise_for_failures
    turns them into one IngestRunError. A failed products or users partition stops the run there.
    """
    now = now or datetime.now(UTC)
    options = options or IngestOptions()
    session = GxSession(options.docs_dir)
    results: list[dict[str, Any]] = []
    try:
        for table in order_tables(tables):
            for day in days:
                try:
                    results.append(
                        ingest_partition(
                            root, table, day, now=now, options=options, force=force, session=session
                        )
                    )
                except IngestError as exc:
                    results.append(failed_result(table, day, exc))
                    if stops_run(table):
                        return results
    finally:
        session.build_docs()
    return results


def failed_result(table: str, day: date, error: Exception) -> dict[str, Any]:
    """A short result for a partition whose ingestion raised (the manifest on disk has the details)."""
    return {"table": table, "dt": day.isoformat(), "status": FAILED, "error": str(error), "rows": {}}


def raise_for_failures(results: list[dict[str, Any]]) -> None:
    """Raise one IngestRunError listing every failed partition's message."""
    failed = [result["error"] for result in results if result.get("status") == FAILED]
    if failed:
        raise IngestRunError(f"{len(failed)} partition(s) failed: " + " | ".join(failed))


def summary_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per partition for tables and artifacts: table, dt, status, counts, reasons, GX."""
    rows = []
    for result in results:
        counts = result.get("rows", {})
        gx = result.get("gx") or {}
        reasons = result.get("quarantined_by_reason") or {}
        rows.append(
            {
                "table": result["table"],
                "dt": result["dt"],
                "status": result["status"],
                "rows_in": counts.get("in", ""),
                "curated": counts.get("curated", ""),
                "quarantined": counts.get("quarantined", ""),
                "reasons": ", ".join(f"{code} {n}" for code, n in reasons.items()),
                "gx": f"{gx.get('successful', 0)}/{gx.get('evaluated', 0)}" if gx else "",
                "docs": gx.get("docs") or "",
                "error": result.get("error", ""),
            }
        )
    return rows
