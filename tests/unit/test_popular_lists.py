"""The serving fallback's popular lists: exact top-k over a user's categories, background refresh."""

from __future__ import annotations

import threading

import pytest

from shopgraph.serving.popular import PopularLists, PopularProduct, PopularSnapshot, popular_in_tastes

pytestmark = pytest.mark.unit

A, B, C, D = (PopularProduct(f"p{n}", f"title {n}", pop) for n, pop in ((1, 9), (2, 7), (3, 7), (4, 1)))
SNAPSHOT = PopularSnapshot(overall=[A, B, C, D], by_category={"shoes": [A, C], "bags": [B, C, D]})


def test_new_users_get_the_overall_list() -> None:
    assert popular_in_tastes(SNAPSHOT, [], 2) == [A, B]


def test_tastes_merge_categories_without_repeats_ties_broken_by_id() -> None:
    assert popular_in_tastes(SNAPSHOT, ["bags", "shoes"], 3) == [A, B, C]
    assert popular_in_tastes(SNAPSHOT, ["bags"], 10) == [B, C, D]
    assert popular_in_tastes(SNAPSHOT, ["unknown category"], 5) == []


def test_lists_refresh_in_the_background_and_survive_a_failed_refresh() -> None:
    calls: list[int] = []
    refreshed = threading.Event()

    def load() -> PopularSnapshot:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("neo4j went away")
        if len(calls) >= 3:
            refreshed.set()
            return PopularSnapshot([D], {})
        return SNAPSHOT

    lists = PopularLists(load, refresh_s=0.01)
    lists.start()
    assert lists.snapshot is SNAPSHOT or refreshed.is_set()
    assert refreshed.wait(5)
    lists.stop()
    assert list(lists.snapshot.overall) == [D]
