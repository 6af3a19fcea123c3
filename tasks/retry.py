"""The one retry policy of tasks that do I/O: exponential backoff with jitter."""

from __future__ import annotations

from typing import Any

from prefect.tasks import exponential_backoff

JITTER = 0.5  # each delay varies by up to +50% so that retries of parallel tasks do not align


def io_retries(retries: int = 3, base_delay_s: float = 2.0) -> dict[str, Any]:
    """@task keyword arguments: `retries` tries after base_delay_s, 2x, 4x... each with jitter."""
    return {
        "retries": retries,
        "retry_delay_seconds": exponential_backoff(backoff_factor=base_delay_s)(retries),
        "retry_jitter_factor": JITTER,
    }


IO_RETRIES: dict[str, Any] = io_retries()
