"""Model batches over a device whose batch size halves on out-of-memory and stays halved for the run."""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch

from shopgraph.errors import ShopgraphError

log = logging.getLogger(__name__)

# step(position, batch_size) runs the batch starting at position and returns how many items it took.
Step = Callable[[int, int], int]


class BatchOutOfMemoryError(ShopgraphError):
    """A batch of one item (the one at `position`) still did not fit on the device."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(message)
        self.position = position


class HalvingBatches:
    """The batch size of one run (over one or more calls to `run`): halved on each out-of-memory error."""

    def __init__(self, batch_size: int, device: torch.device, what: str = "items") -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.batch_size = batch_size
        self.halvings = 0
        self.device = device
        self.what = what

    def run(self, total: int, step: Step) -> None:
        """Call step until total items are done; a batch that runs out of memory is tried again, halved.

        Raises BatchOutOfMemoryError when a batch of one item does not fit.
        """
        position = 0
        while position < total:
            out_of_memory = False
            try:
                position += step(position, self.batch_size)
            except torch.OutOfMemoryError:
                out_of_memory = True
            if out_of_memory:
                # Outside the except block, so the failed batch's tensors (held by the traceback) are freed.
                self._halve(position)

    def _halve(self, position: int) -> None:
        if self.device.type == "cuda":
            torch.cuda.empty_cache()
        if self.batch_size == 1:
            raise BatchOutOfMemoryError(
                f"out of memory on {self.device} with a batch of one ({self.what}, item {position})",
                position,
            )
        self.batch_size //= 2
        self.halvings += 1
        log.warning("out of memory on %s: batch size halved to %d", self.device, self.batch_size)
