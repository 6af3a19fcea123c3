"""Tasks of the ingest flow: one landing partition into the curated lake, and the run's report artifact."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from shopgraph.adapters.expectations import shared_session
from shopgraph.errors import ShopgraphError
from shopgraph.ingestion.pipeline import IngestOptions, ingest_partition, summary_rows
from shopgraph.settings import load_settings
from tasks.retry import IO_RETRIES


def _retry_io_only(task: Any, task_run: Any, state: Any) -> bool:
    # A data failure (bad partition) fails the same way on every try; only I/O hiccups deserve a retry.
    error = state.result(raise_on_failure=False)
    return not isinstance(error, ShopgraphError)


@task(
    name="ingest-partition",
    **IO_RETRIES,
    retry_condition_fn=_retry_io_only,
    cache_policy=NO_CACHE,
    task_run_name="ingest-{table}-{day}",
)
def ingest_partition_task(root: str, table: str, day: str, now: str, force: bool) -> dict[str, Any]:
    """Ingest landing/<table>/dt=<day> (rules, quarantine, GX, manifest); returns the manifest."""
    logger = get_run_logger()
    options = IngestOptions.from_settings(load_settings())
    manifest = ingest_partition(
        root,
        table,
        date.fromisoformat(day),
        now=datetime.fromisoformat(now),
        options=options,
        force=force,
        session=shared_session(options.docs_dir),
    )
    rows = manifest.get("rows", {})
    logger.info(
        "%s dt=%s %s: %s in, %s curated, %s quarantined %s",
        table,
        day,
        manifest["status"],
        rows.get("in"),
        rows.get("curated"),
        rows.get("quarantined"),
        manifest.get("quarantined_by_reason") or "",
    )
    for unreadable in manifest.get("unreadable_files", []) if manifest["status"] != "skipped" else []:
        logger.warning(
            "unreadable landing file quarantined: %s (%s)", unreadable["file"], unreadable["error"]
        )
    return manifest


def report_markdown(results: list[dict[str, Any]], docs_index: str | None) -> str:
    """The manifest table of a run as markdown, with a link to each partition's Data Docs page."""
    lines = [
        "# Ingestion",
        "",
        "| table | dt | status | rows in | curated | quarantined | reasons | GX passed | Data Docs |",
        "|---|---|---|---:|---:|---:|---|---|---|",
    ]
    for row in summary_rows(results):
        docs = f"[page]({row['docs']})" if row["docs"] else ""
        lines.append(
            f"| {row['table']} | {row['dt']} | {row['status']} | {row['rows_in']} | {row['curated']} | "
            f"{row['quarantined']} | {row['reasons']} | {row['gx']} | {docs} |"
        )
    errors = [row for row in summary_rows(results) if row["error"]]
    if errors:
        lines += ["", "## Failures", ""] + [f"- {row['error']}" for row in errors]
    if docs_index:
        lines += ["", f"Data Docs: [index]({docs_index})"]
    return "\n".join(lines) + "\n"


@task(name="publish-ingest-report", cache_policy=NO_CACHE, **IO_RETRIES)
def publish_report(results: list[dict[str, Any]]) -> str:
    """Build the run's Data Docs and create the `ingest-report` markdown artifact; returns its markdown."""
    options = IngestOptions.from_settings(load_settings())
    docs_index = shared_session(options.docs_dir).build_docs()
    markdown = report_markdown(results, docs_index)
    create_markdown_artifact(markdown=markdown, key="ingest-report", description="Ingestion manifests")
    return markdown
