"""Great Expectations adapter: suites from conf/expectations, polars frames validated as pandas, Data Docs.

`import great_expectations` takes many seconds, so it happens inside the functions that need it.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from shopgraph.domain.ingest.profile import BAD_ROW_SHARE, DUPLICATE_KEYS, PROFILE_COLUMNS
from shopgraph.schemas import landing as L

THRESHOLD_PLACEHOLDER = "${max_bad_row_share}"
SITE_NAME = "shopgraph-ingest"
ASSET = "partition"
RESULT_FORMAT = "BASIC"


@dataclass
class GxSummary:
    """What one validation found: success, counts, each failed expectation, where its Data Docs page is."""

    suite: str
    success: bool
    evaluated: int
    successful: int
    rows_checked: int
    seconds: float
    failed: list[dict[str, Any]] = field(default_factory=list)
    docs: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def first_failure(self) -> str:
        """'expectation(column): observed' of the first failed expectation, '' when none failed."""
        if not self.failed:
            return ""
        first = self.failed[0]
        column = f"({first['column']})" if first.get("column") else ""
        return f"{first['expectation']}{column}: {first['observed']}"


def generic_suite(table: str) -> dict[str, Any]:
    """A suite for a landing table without a file in conf/expectations: column set, keys, profile."""
    schema = (L.LANDING_SCHEMAS | L.IMPORTED_SCHEMAS)[table]
    keys = L.LANDING_KEYS.get(table, (next(iter(schema)),))
    expectations: list[dict[str, Any]] = [
        {
            "type": "expect_table_columns_to_match_set",
            "kwargs": {"column_set": [*schema, *PROFILE_COLUMNS], "exact_match": True},
        },
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}},
        {
            "type": "expect_column_max_to_be_between",
            "kwargs": {"column": BAD_ROW_SHARE, "min_value": 0, "max_value": THRESHOLD_PLACEHOLDER},
        },
        {
            "type": "expect_column_max_to_be_between",
            "kwargs": {"column": DUPLICATE_KEYS, "min_value": 0, "max_value": 0},
        },
    ]
    for key in keys:
        expectations.append({"type": "expect_column_values_to_not_be_null", "kwargs": {"column": key}})
    return {"name": f"ingest.{table}", "expectations": expectations, "meta": {"generated": True}}


def _substitute(value: Any, threshold: float) -> Any:
    if value == THRESHOLD_PLACEHOLDER:
        return threshold
    if isinstance(value, dict):
        return {key: _substitute(item, threshold) for key, item in value.items()}
    if isinstance(value, list):
        return [_substitute(item, threshold) for item in value]
    return value


def load_suite_config(conf_dir: Path, table: str, *, max_bad_row_share: float) -> dict[str, Any]:
    """The suite of a table from conf_dir/<table>.json (or a generic one), with the bad-row threshold set."""
    path = conf_dir / f"{table}.json"
    config = json.loads(path.read_text()) if path.exists() else generic_suite(table)
    substituted: dict[str, Any] = _substitute(config, max_bad_row_share)
    return substituted


def _observed(result: dict[str, Any]) -> str:
    if "observed_value" in result:
        return f"observed {result['observed_value']}"
    if "unexpected_count" in result:
        sample = result.get("partial_unexpected_list", [])[:3]
        return f"{result['unexpected_count']} unexpected values, e.g. {sample}"
    return "failed"


def _summarise(suite: str, result: Any, rows: int, seconds: float, docs: str | None) -> GxSummary:
    described = result.describe_dict()
    failed = [
        {
            "expectation": item["expectation_type"],
            "column": item["kwargs"].get("column") or item["kwargs"].get("column_list"),
            "observed": _observed(item.get("result", {})),
        }
        for item in described["expectations"]
        if not item["success"]
    ]
    stats = described["statistics"]
    return GxSummary(
        suite=suite,
        success=bool(described["success"]),
        evaluated=int(stats["evaluated_expectations"]),
        successful=int(stats["successful_expectations"]),
        rows_checked=rows,
        seconds=seconds,
        failed=failed,
        docs=docs,
    )


def _context(docs_dir: str | None) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    # Per-metric progress bars would flood task logs.
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    if docs_dir:
        Path(docs_dir).mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            site_name=SITE_NAME,
            site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs_dir},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
    return context


class GxSession:
    """One ephemeral GX context for a run: validations accumulate, Data Docs are built once at the end
    (rendering costs about a second, so building per partition would dominate small partitions).

    Each distinct suite config gets one suite, pandas asset and validation definition, reused by every
    partition validated against it: adding them to the context re-serialises the whole project config, a
    cost that grew with every partition when each validation added its own. Partitions stay apart in the
    results and Data Docs by their run name.
    """

    def __init__(self, docs_dir: str | None = None) -> None:
        # GX wants an absolute folder for its file store.
        self.docs_dir = str(Path(docs_dir).resolve()) if docs_dir else None
        self._context: Any = None
        self._definitions: dict[str, Any] = {}
        self.docs_seconds = 0.0

    @property
    def context(self) -> Any:
        if self._context is None:
            self._context = _context(self.docs_dir)
        return self._context

    def _definition(self, suite_config: dict[str, Any]) -> Any:
        """The validation definition of a suite config, created on first use."""
        import great_expectations as gx

        # The bad-row threshold makes configs of one table differ (tiny partitions are not held to it).
        key = json.dumps(suite_config, sort_keys=True, default=str)
        if key not in self._definitions:
            context = self.context
            name = f"{suite_config['name']}.{len(self._definitions)}"
            # GX writes ids into the expectation dicts it is given; the caller's config stays as it was.
            config = {**copy.deepcopy(suite_config), "name": name}
            suite = context.suites.add(gx.ExpectationSuite(**config))
            asset = context.data_sources.add_pandas(name).add_dataframe_asset(ASSET)
            self._definitions[key] = context.validation_definitions.add(
                gx.ValidationDefinition(
                    data=asset.add_batch_definition_whole_dataframe(ASSET), suite=suite, name=name
                )
            )
        return self._definitions[key]

    def validate(self, frame: pl.DataFrame, suite_config: dict[str, Any], *, run_name: str) -> GxSummary:
        """Validate a polars frame (converted to pandas through Arrow) against a suite config; the summary
        names the Data Docs page the result will have once build_docs runs."""
        from great_expectations.core.run_identifier import RunIdentifier

        started = time.perf_counter()
        definition = self._definition(suite_config)
        run_id = RunIdentifier(run_name=run_name, run_time=datetime.now(UTC))
        data = frame.to_arrow().to_pandas()
        # BASIC keeps what a failure message needs (unexpected count and sample values) without the
        # value counts and index lists of SUMMARY, which cost a third of each validation.
        result = definition.run(
            batch_parameters={"dataframe": data}, result_format=RESULT_FORMAT, run_id=run_id
        )
        docs = self._docs_url(definition, run_id) if self.docs_dir else None
        return _summarise(definition.suite.name, result, frame.height, time.perf_counter() - started, docs)

    def _docs_url(self, definition: Any, run_id: Any) -> str | None:
        from great_expectations.data_context.types.resource_identifiers import (
            ExpectationSuiteIdentifier,
            ValidationResultIdentifier,
        )

        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=definition.suite.name),
            run_id=run_id,
            # A whole-dataframe batch of a fluent pandas asset is identified as '<datasource>-<asset>'.
            batch_identifier=f"{definition.data_source.name}-{definition.asset.name}",
        )
        urls = self.context.get_docs_sites_urls(
            resource_identifier=key, site_name=SITE_NAME, only_if_exists=False
        )
        return str(urls[0]["site_url"]) if urls else None

    def build_docs(self) -> str | None:
        """Render Data Docs for every validation of this session; the index URL (None without docs_dir)."""
        if not self.docs_dir or self._context is None:
            return None
        started = time.perf_counter()
        self._context.build_data_docs(site_names=[SITE_NAME])
        self.docs_seconds = time.perf_counter() - started
        return (Path(self.docs_dir) / "index.html").resolve().as_uri()


_SESSIONS: dict[str | None, GxSession] = {}


def shared_session(docs_dir: str | None) -> GxSession:
    """The process's session for a Data Docs folder, so the tasks of one flow run share one context."""
    if docs_dir not in _SESSIONS:
        _SESSIONS[docs_dir] = GxSession(docs_dir)
    return _SESSIONS[docs_dir]
