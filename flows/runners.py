"""The task runner from settings: a thread pool by default, Dask (prefect-dask) for CPU fan-out."""

from __future__ import annotations

from typing import Any

from prefect.task_runners import ThreadPoolTaskRunner

from shopgraph.settings import Settings


def configured_task_runner(settings: Settings) -> Any:
    """prefect.task_runner `thread` (max_workers threads) or `dask`: a local cluster of max_workers
    workers, or the scheduler at prefect.dask_address. Pass it to `flow.with_options(task_runner=...)`."""
    prefect = settings.prefect
    if prefect.task_runner == "thread":
        return ThreadPoolTaskRunner(max_workers=prefect.max_workers)
    from prefect_dask import DaskTaskRunner

    if prefect.dask_address:
        return DaskTaskRunner(address=prefect.dask_address)
    return DaskTaskRunner(
        cluster_kwargs={"n_workers": prefect.max_workers, "threads_per_worker": 1, "processes": False}
    )
