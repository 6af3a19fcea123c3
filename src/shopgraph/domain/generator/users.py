"""Shoppers: profile attributes, hidden tastes that drift once, and their landing and truth rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from shopgraph.domain.generator.catalog import (
    BRAND_DEPARTMENT,
    BRAND_TIER,
    CATEGORY_DEPARTMENT,
    CATEGORY_WEIGHT,
)
from shopgraph.domain.generator.columns import NEVER, NONE, day_dates, vocabulary_names
from shopgraph.domain.generator.vocabulary import (
    BRANDS,
    CATEGORIES,
    DEPARTMENTS,
    STYLE_INDEX,
    STYLES,
    TIERS,
)
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T

DAY_US = 86_400_000_000
YEAR_US = 365 * DAY_US

COUNTRIES = ("DE", "FR", "GB", "NL", "ES", "IT", "SE", "PL", "AT", "US")
COUNTRY_WEIGHTS = (0.22, 0.15, 0.16, 0.08, 0.09, 0.09, 0.05, 0.06, 0.04, 0.06)
COUNTRY_LANGUAGE = ("de", "fr", "en", "nl", "es", "it", "sv", "pl", "de", "en")
AGE_BANDS = ("18-24", "25-34", "35-44", "45-54", "55-64", "65+")
AGE_WEIGHTS = (0.16, 0.28, 0.23, 0.16, 0.11, 0.06)
PRICE_BAND_WEIGHTS = (0.35, 0.45, 0.20)

NEW_USERS_PER_DAY = 0.01
DRIFT_SHARE = 0.35
SESSIONS_PER_DAY_LOG_MEAN = np.log(0.3) - 0.32
SESSIONS_PER_DAY_LOG_SIGMA = 0.8
TASTE_DIRICHLET = (3.0, 1.5, 0.8)
SAME_DEPARTMENT_SECOND_CHOICE = 0.6


@dataclass
class Population:
    """Every user the run will see, by index; taste arrays hold two periods, before and after drift_day."""

    signup_us: np.ndarray
    signup_day: np.ndarray
    country: np.ndarray
    age_band: np.ndarray
    opt_in: np.ndarray
    activity: np.ndarray
    price_band: np.ndarray
    categories: np.ndarray  # (n, 2 periods, 3 favourites)
    weights: np.ndarray  # (n, 2, 3)
    style: np.ndarray  # (n, 2)
    brand: np.ndarray  # (n, 2)
    drift_day: np.ndarray
    deleted_day: np.ndarray

    def __len__(self) -> int:
        return len(self.signup_day)

    def active(self, day: int) -> np.ndarray:
        """Mask of users who can shop on a day: signed up before it (or initial) and not deleted."""
        joined = (self.signup_day == 0) | (self.signup_day < day)
        return joined & (self.deleted_day > day)

    def period(self, users: np.ndarray, day: int) -> np.ndarray:
        """0 before a user's drift day, 1 from it."""
        return (day >= self.drift_day[users]).astype(np.int64)


def _categories_in_department(rng: np.random.Generator, departments: np.ndarray) -> np.ndarray:
    chosen = np.empty(departments.size, dtype=np.int16)
    for dept in range(len(DEPARTMENTS)):
        rows = np.flatnonzero(departments == dept)
        members = np.flatnonzero(dept == CATEGORY_DEPARTMENT)
        weights = CATEGORY_WEIGHT[members] / CATEGORY_WEIGHT[members].sum()
        chosen[rows] = members[rng.choice(members.size, size=rows.size, p=weights)]
    return chosen


def sample_tastes(
    rng: np.random.Generator, price_band: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Three favourite categories with weights, a style and a brand per user, fitting the price band."""
    n = price_band.size
    first = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_WEIGHT).astype(np.int16)
    categories = np.empty((n, 3), dtype=np.int16)
    categories[:, 0] = first
    for column in (1, 2):
        nearby = _categories_in_department(rng, CATEGORY_DEPARTMENT[first])
        anywhere = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_WEIGHT).astype(np.int16)
        categories[:, column] = np.where(rng.random(n) < SAME_DEPARTMENT_SECOND_CHOICE, nearby, anywhere)
    weights = -np.sort(-rng.dirichlet(TASTE_DIRICHLET, size=n), axis=1)
    style = np.empty(n, dtype=np.int16)
    brand = np.empty(n, dtype=np.int16)
    departments = CATEGORY_DEPARTMENT[first]
    for dept_index, dept in enumerate(DEPARTMENTS):
        rows = np.flatnonzero(departments == dept_index)
        styles = np.array([STYLE_INDEX[s] for s in dept.styles], dtype=np.int16)
        style[rows] = styles[rng.integers(0, styles.size, rows.size)]
        in_dept = np.flatnonzero(dept_index == BRAND_DEPARTMENT)
        any_brand = in_dept[rng.integers(0, in_dept.size, rows.size)]
        for band in range(len(TIERS)):
            banded = rows[price_band[rows] == band]
            matching = in_dept[BRAND_TIER[in_dept] == band]
            picks = matching[rng.integers(0, matching.size, banded.size)]
            loyal = rng.random(banded.size) < 0.7
            positions = np.searchsorted(rows, banded)
            any_brand[positions] = np.where(loyal, picks, any_brand[positions])
        brand[rows] = any_brand
    return categories, weights, style, brand


def plan_users(initial: int, days: int, start_us: int, rng: np.random.Generator) -> Population:
    """Initial users (signed up during the three years before the start) plus daily signups, with tastes."""
    new_per_day = rng.poisson(max(initial * NEW_USERS_PER_DAY, 0.5), size=max(days - 1, 0))
    signup_day = np.concatenate(
        [np.zeros(initial, dtype=np.int32)]
        + [np.full(count, day, dtype=np.int32) for day, count in enumerate(new_per_day, start=1)]
    )
    n = signup_day.size
    before = start_us - rng.integers(DAY_US, 3 * YEAR_US, n)
    during = start_us + signup_day.astype(np.int64) * DAY_US + rng.integers(0, DAY_US, n)
    signup_us = np.where(signup_day == 0, before, during)
    country = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_WEIGHTS).astype(np.int8)
    age_band = rng.choice(len(AGE_BANDS), size=n, p=AGE_WEIGHTS).astype(np.int8)
    age_band = np.where(rng.random(n) < 0.12, NONE, age_band).astype(np.int8)
    opt_in = rng.random(n) < 0.4
    activity = rng.lognormal(SESSIONS_PER_DAY_LOG_MEAN, SESSIONS_PER_DAY_LOG_SIGMA, n)
    price_band = rng.choice(len(TIERS), size=n, p=PRICE_BAND_WEIGHTS).astype(np.int8)
    cats_a, weights_a, style_a, brand_a = sample_tastes(rng, price_band)
    cats_b, weights_b, style_b, brand_b = sample_tastes(rng, price_band)
    drifts = rng.random(n) < DRIFT_SHARE
    drift_day = np.full(n, NEVER, dtype=np.int32)
    if days > 1:
        first_possible = np.maximum(signup_day + 1, 1)
        day = first_possible + (rng.random(n) * np.maximum(days - first_possible, 0)).astype(np.int32)
        drift_day = np.where(drifts & (day < days), day, NEVER).astype(np.int32)
    return Population(
        signup_us=signup_us,
        signup_day=signup_day,
        country=country,
        age_band=age_band,
        opt_in=opt_in,
        activity=activity,
        price_band=price_band,
        categories=np.stack([cats_a, cats_b], axis=1),
        weights=np.stack([weights_a, weights_b], axis=1),
        style=np.stack([style_a, style_b], axis=1),
        brand=np.stack([brand_a, brand_b], axis=1),
        drift_day=drift_day,
        deleted_day=np.full(n, NEVER, dtype=np.int32),
    )


def user_ids(indices: np.ndarray) -> pl.Series:
    """User keys for population indices: U00000042."""
    return "U" + pl.Series(L.USER_ID, np.asarray(indices, dtype=np.int64)).cast(pl.String).str.zfill(8)


def _lookup(values: np.ndarray, names: tuple[str, ...]) -> pl.Series:
    return vocabulary_names(values, names)


def user_frame(population: Population, indices: np.ndarray, updated_at_us: np.ndarray) -> pl.DataFrame:
    """Landing user rows (USERS_SCHEMA) for live users as they stand now."""
    return pl.DataFrame(
        {
            L.USER_ID: user_ids(indices),
            L.SIGNUP_AT: pl.Series(population.signup_us[indices], dtype=pl.Int64).cast(L.TIMESTAMP),
            L.COUNTRY: _lookup(population.country[indices], COUNTRIES),
            L.AGE_BAND: _lookup(population.age_band[indices], AGE_BANDS),
            L.LANGUAGE: _lookup(population.country[indices], COUNTRY_LANGUAGE),
            L.MARKETING_OPT_IN: pl.Series(population.opt_in[indices]),
            L.IS_DELETED: pl.Series(np.zeros(len(indices), dtype=bool)),
            L.UPDATED_AT: pl.Series(updated_at_us, dtype=pl.Int64).cast(L.TIMESTAMP),
        },
        schema=L.USERS_SCHEMA,
    )


def user_taste_frame(population: Population, start_date: date) -> pl.DataFrame:
    """Hidden tastes (USER_TASTES_SCHEMA): one row per user and period; valid_to is exclusive, null = open."""
    n = len(population)
    drifted = np.flatnonzero(population.drift_day != NEVER)
    users = np.concatenate([np.arange(n), drifted])
    period = np.concatenate([np.zeros(n, dtype=np.int64), np.ones(drifted.size, dtype=np.int64)])
    start_day = np.where(period == 0, population.signup_day[users], population.drift_day[users])
    end_day = np.where(period == 0, population.drift_day[users], NEVER)
    order = np.lexsort((period, users))
    users, period, start_day, end_day = users[order], period[order], start_day[order], end_day[order]
    categories = population.categories[users, period]
    weights = population.weights[users, period]
    paths = tuple(c.path for c in CATEGORIES)
    columns: dict[str, pl.Series | np.ndarray] = {
        L.USER_ID: user_ids(users),
        T.VALID_FROM: day_dates(start_day, start_date),
        T.VALID_TO: day_dates(end_day, start_date),
    }
    for rank, (cat_col, weight_col) in enumerate(
        ((T.CATEGORY_1, T.WEIGHT_1), (T.CATEGORY_2, T.WEIGHT_2), (T.CATEGORY_3, T.WEIGHT_3))
    ):
        columns[cat_col] = _lookup(categories[:, rank], paths)
        columns[weight_col] = weights[:, rank]
    columns[L.STYLE] = _lookup(population.style[users, period], STYLES)
    columns[L.BRAND] = _lookup(population.brand[users, period], tuple(b for b, _, _ in BRANDS))
    columns[T.PRICE_BAND] = _lookup(population.price_band[users], TIERS)
    columns[T.SESSIONS_PER_DAY] = population.activity[users]
    return pl.DataFrame(columns, schema=T.USER_TASTES_SCHEMA)
