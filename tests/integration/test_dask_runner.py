"""The configurable task runner: a small fan-out flow on a local Dask cluster (prefect-dask) gives the
same result as polars directly, and its tasks really run on the Dask workers."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

from flows.runners import configured_task_runner
from shopgraph.adapters.lake import landing_partitions
from shopgraph.generate import generate_shop
from shopgraph.settings import load_settings
from tasks.smoke import count_landing_rows

pytestmark = pytest.mark.integration


@task
def worker_address() -> str:
    from distributed import get_worker

    return str(get_worker().address)  # raises ValueError outside a Dask worker


@flow
def count_partitions(globs: list[str]) -> tuple[int, set[str]]:
    counts = count_landing_rows.map(globs)
    workers = [worker_address.submit() for _ in globs]
    return sum(future.result() for future in counts), {future.result() for future in workers}


def test_fan_out_on_a_local_dask_cluster(tmp_path: Path, prefect_harness: None) -> None:
    from prefect_dask import DaskTaskRunner

    lake = str(tmp_path / "lake")
    generate_shop(lake, products=30, users=10, days=4, start_date=date(2026, 1, 1), seed=3)
    partitions = landing_partitions(lake, "events")
    globs = [f"{partition}/*.parquet" for partition in partitions]
    expected = pl.scan_parquet(f"{lake}/landing/events/*/*.parquet").select(pl.len()).collect().item()
    settings = load_settings(prefect={"task_runner": "dask", "max_workers": 2})
    runner = configured_task_runner(settings)
    assert isinstance(runner, DaskTaskRunner)

    total, workers = count_partitions.with_options(task_runner=runner)(globs)

    assert len(partitions) == 4 and total == expected > 0
    assert workers and all(address.startswith("inproc://") for address in workers)


def test_thread_runner_is_the_default() -> None:
    runner = configured_task_runner(load_settings())
    assert isinstance(runner, ThreadPoolTaskRunner) and runner._max_workers == 4
