"""Popular products overall and per category, kept in memory and recomputed in the background."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PopularProduct:
    product_id: str
    title: str | None
    popularity: int


@dataclass(frozen=True)
class PopularSnapshot:
    """The most popular products overall, and per category path, most popular first (ties by id)."""

    overall: Sequence[PopularProduct]
    by_category: Mapping[str, Sequence[PopularProduct]]


def popular_in_tastes(snapshot: PopularSnapshot, tastes: Sequence[str], k: int) -> list[PopularProduct]:
    """The k most popular products in any of the tastes' categories; overall when tastes is empty.

    Exact whenever k is at most the per-category list length: a product among the top k of the union is
    among the top k of its own category.
    """
    if not tastes:
        return list(snapshot.overall[:k])
    merged = {p.product_id: p for path in tastes for p in snapshot.by_category.get(path, ())}
    return sorted(merged.values(), key=lambda p: (-p.popularity, p.product_id))[:k]


class PopularLists:
    """A PopularSnapshot computed by `load` at start and then every refresh_s seconds in a daemon thread;
    a failed refresh keeps the previous snapshot (and logs why)."""

    def __init__(self, load: Callable[[], PopularSnapshot], refresh_s: float) -> None:
        self._load = load
        self._refresh_s = refresh_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.snapshot = PopularSnapshot((), {})

    def start(self) -> None:
        self.snapshot = self._load()
        self._thread = threading.Thread(target=self._refresh_loop, name="popular-lists", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _refresh_loop(self) -> None:
        while not self._stop.wait(self._refresh_s):
            try:
                self.snapshot = self._load()
            except Exception:  # noqa: BLE001 - serving goes on with the previous lists
                log.exception("refreshing the popular lists failed; keeping the previous ones")
