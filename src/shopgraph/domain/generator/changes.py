"""Daily change sets: which products and users are new, updated or deleted on a day, applied to the state."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from shopgraph.domain.generator.catalog import (
    GAP_BRAND,
    GAP_COLOUR,
    GAP_MATERIAL,
    GAP_SIZE,
    GAP_STYLE,
    NEVER,
    NONE,
    Catalog,
    list_prices,
)
from shopgraph.domain.generator.users import AGE_BANDS, COUNTRIES, COUNTRY_WEIGHTS, Population

PRODUCT_UPDATE_RATE = 0.01
PRODUCT_DELETE_RATE = 0.002
USER_UPDATE_RATE = 0.004
USER_DELETE_RATE = 0.0005
PRICE_MOVES = np.array([0.75, 0.8, 0.9, 0.95, 1.05, 1.1, 1.2])


@dataclass(frozen=True)
class ChangeSet:
    """Indices written on a day: new rows, updated rows (full new state) and tombstones, each sorted."""

    created: np.ndarray
    updated: np.ndarray
    deleted: np.ndarray

    @property
    def upserts(self) -> np.ndarray:
        return np.union1d(self.created, self.updated)


def _split(
    existing: np.ndarray, day_rate: tuple[float, float], rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    update_rate, delete_rate = day_rate
    touched = rng.permutation(existing)
    n_update = rng.binomial(existing.size, update_rate)
    n_delete = rng.binomial(existing.size, delete_rate)
    return np.sort(touched[:n_update]), np.sort(touched[n_update : n_update + n_delete])


def apply_product_changes(catalog: Catalog, day: int, rng: np.random.Generator) -> ChangeSet:
    """Pick the day's new, updated and deleted products and apply them to the catalog in place.

    Day 0 lists the initial catalog. Later days reprice most updated products, rewrite some descriptions
    (text_version) and fill some structured columns left empty; deleted products get deleted_day = day.
    """
    created = np.flatnonzero(catalog.created_day == day)
    if day == 0:
        return ChangeSet(created, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    existing = np.flatnonzero((catalog.created_day < day) & (catalog.deleted_day == NEVER))
    updated, deleted = _split(existing, (PRODUCT_UPDATE_RATE, PRODUCT_DELETE_RATE), rng)
    kind = rng.random(updated.size)
    repriced = updated[kind < 0.6]
    moved = catalog.price[repriced] * PRICE_MOVES[rng.integers(0, PRICE_MOVES.size, repriced.size)]
    catalog.price[repriced] = list_prices(moved, rng)
    rewritten = updated[(kind >= 0.6) & (kind < 0.8)]
    catalog.text_version[rewritten] += 1
    filled = updated[kind >= 0.8]
    bits = np.array([GAP_BRAND, GAP_COLOUR, GAP_MATERIAL, GAP_SIZE, GAP_STYLE], dtype=np.uint8)
    catalog.gaps[filled] &= ~bits[rng.integers(0, bits.size, filled.size)]
    catalog.deleted_day[deleted] = day
    return ChangeSet(created, updated, deleted)


def apply_user_changes(population: Population, day: int, rng: np.random.Generator) -> ChangeSet:
    """Pick the day's signups, profile updates and deletions and apply them to the population in place."""
    created = np.flatnonzero(population.signup_day == day)
    if day == 0:
        return ChangeSet(created, np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64))
    existing = np.flatnonzero((population.signup_day < day) & (population.deleted_day == NEVER))
    updated, deleted = _split(existing, (USER_UPDATE_RATE, USER_DELETE_RATE), rng)
    kind = rng.random(updated.size)
    toggled = updated[kind < 0.5]
    population.opt_in[toggled] = ~population.opt_in[toggled]
    moved = updated[(kind >= 0.5) & (kind < 0.7)]
    population.country[moved] = rng.choice(len(COUNTRIES), size=moved.size, p=COUNTRY_WEIGHTS)
    aged = updated[kind >= 0.7]
    population.age_band[aged] = np.minimum(
        np.where(
            population.age_band[aged] == NONE, rng.integers(0, 3, aged.size), population.age_band[aged] + 1
        ),
        len(AGE_BANDS) - 1,
    )
    population.deleted_day[deleted] = day
    return ChangeSet(created, updated, deleted)
