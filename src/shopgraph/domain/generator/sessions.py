"""Shopping sessions: browse or search, view, click, add to cart, buy; driven by tastes and quality."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import polars as pl

from shopgraph.domain.generator.catalog import (
    BRAND_DEPARTMENT,
    CATEGORY_DEPARTMENT,
    CATEGORY_WEIGHT,
    NONE,
    Catalog,
    product_ids,
)
from shopgraph.domain.generator.columns import masked, vocabulary_names
from shopgraph.domain.generator.queries import Intents, compose_query
from shopgraph.domain.generator.shelf import Shelf
from shopgraph.domain.generator.users import DAY_US, Population, user_ids
from shopgraph.domain.generator.vocabulary import CATEGORIES, COLOUR_INDEX, MATERIAL_INDEX
from shopgraph.schemas import landing as L

EXPLORE_SHARE = 0.12
SEARCH_SHARE = 0.35
CANDIDATES_PER_VIEW = 6
VIEWS_GEOMETRIC_P = 0.3
MAX_VIEWS = 12
MEAN_GAP_US = 45_000_000
DISCOUNT_SHARE = 0.15
HOUR_US = 3_600_000_000
_ORDER_PURCHASE = 1_000

# Funnel event codes, in EVENT_TYPES order.
VIEW, CLICK, CART, PURCHASE, RATE = range(5)


@dataclass(frozen=True)
class Purchases:
    """What was bought in a batch of sessions: user and product indices and when."""

    user: np.ndarray
    product: np.ndarray
    ts_us: np.ndarray


@dataclass(frozen=True)
class Ratings:
    """Ratings to publish as events: user and product indices, rating 1-5 and when."""

    user: np.ndarray
    product: np.ndarray
    rating: np.ndarray
    ts_us: np.ndarray


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _session_starts(rng: np.random.Generator, count: int) -> np.ndarray:
    # Lunchtime and evening peaks, as in most retail traffic.
    evening = rng.random(count) < 0.55
    hours = np.where(evening, rng.normal(20.5, 1.8, count), rng.normal(12.5, 2.5, count))
    return (np.clip(hours, 0.0, 23.0) * HOUR_US).astype(np.int64)


def _session_categories(
    population: Population, users: np.ndarray, day: int, shelf: Shelf, rng: np.random.Generator
) -> np.ndarray:
    period = population.period(users, day)
    favourites = population.categories[users, period]
    weights = np.cumsum(population.weights[users, period], axis=1)
    pick = np.minimum((weights < rng.random(users.size)[:, None]).sum(axis=1), 2)
    category = favourites[np.arange(users.size), pick].astype(np.int64)
    explore = rng.random(users.size) < EXPLORE_SHARE
    wandering = rng.choice(len(CATEGORIES), size=users.size, p=CATEGORY_WEIGHT)
    category = np.where(explore, wandering, category)
    stocked = np.array([products.size > 0 for products in shelf.by_category])
    return np.where(stocked[category], category, NONE)


def _search_intents(
    population: Population, users: np.ndarray, categories: np.ndarray, day: int, rng: np.random.Generator
) -> Intents:
    n = users.size
    period = population.period(users, day)
    colour = np.full(n, NONE, dtype=np.int16)
    material = np.full(n, NONE, dtype=np.int16)
    for index, cat in enumerate(CATEGORIES):
        rows = np.flatnonzero(categories == index)
        if cat.colours:
            palette = np.array([COLOUR_INDEX[c] for c in cat.colours], dtype=np.int16)
            colour[rows] = np.where(
                rng.random(rows.size) < 0.45, palette[rng.integers(0, palette.size, rows.size)], NONE
            )
        if cat.materials:
            options = np.array([MATERIAL_INDEX[m] for m in cat.materials], dtype=np.int16)
            material[rows] = np.where(
                rng.random(rows.size) < 0.2, options[rng.integers(0, options.size, rows.size)], NONE
            )
    style = np.where(rng.random(n) < 0.3, population.style[users, period], NONE).astype(np.int16)
    brand = population.brand[users, period]
    brand_fits = BRAND_DEPARTMENT[brand] == CATEGORY_DEPARTMENT[categories]
    brand = np.where(brand_fits & (rng.random(n) < 0.25), brand, NONE).astype(np.int16)
    return Intents(
        categories.astype(np.int16), brand, colour, material, style, np.full(n, NONE, dtype=np.int16)
    )


def simulate_sessions(
    catalog: Catalog,
    shelf: Shelf,
    population: Population,
    users: np.ndarray,
    day: int,
    rng: np.random.Generator,
) -> tuple[dict[str, np.ndarray], list[str | None], Purchases]:
    """Sessions of the given users on a day as flat event arrays, the session query texts and the purchases.

    Each active user starts Poisson(activity) sessions in a category drawn from their current tastes;
    a share start from a search. Viewed products are the best of a few popular candidates by taste match
    (style, brand, price band) and query match; clicks, carts and purchases follow that affinity and the
    hidden quality, so every purchase was viewed, clicked and carted in the same session.
    """
    active = users[population.active(day)[users]]
    counts = rng.poisson(population.activity[active])
    session_user = np.repeat(active, counts)
    category = _session_categories(population, session_user, day, shelf, rng)
    kept = category != NONE
    session_user, category = session_user[kept], category[kept]
    sessions = session_user.size
    period = population.period(session_user, day)
    search = rng.random(sessions) < SEARCH_SHARE
    intents = _search_intents(population, session_user, category, day, rng)
    no_intent = np.full(sessions, NONE, dtype=np.int16)
    for name in ("brand", "colour", "material", "style"):
        getattr(intents, name)[~search] = no_intent[~search]
    rnd = random.Random(int(rng.integers(0, 2**62)))
    queries: list[str | None] = [
        compose_query(intents, s, rnd)[0] if search[s] else None for s in range(sessions)
    ]

    views = np.minimum(rng.geometric(VIEWS_GEOMETRIC_P, sessions), MAX_VIEWS)
    view_session = np.repeat(np.arange(sessions), views)
    first_view = np.cumsum(views) - views
    view_rank = np.arange(view_session.size) - np.repeat(first_view, views)
    view_category = category[view_session]
    candidates = np.empty((view_session.size, CANDIDATES_PER_VIEW), dtype=np.int64)
    for index in range(len(CATEGORIES)):
        rows = np.flatnonzero(view_category == index)
        if rows.size:
            candidates[rows] = shelf.sample(index, rng.random((rows.size, CANDIDATES_PER_VIEW)))

    user = session_user[view_session][:, None]
    user_period = period[view_session][:, None]
    affinity = (
        1.0 * (catalog.style[candidates] == population.style[user, user_period])
        + 0.8 * (catalog.brand[candidates] == population.brand[user, user_period])
        + 0.6 * (catalog.tier[candidates] == population.price_band[user])
        - 0.6 * np.abs(catalog.tier[candidates].astype(np.int64) - population.price_band[user])
    )
    for name, weight in (("brand", 1.5), ("colour", 1.5), ("style", 1.0), ("material", 1.0)):
        asked = getattr(intents, name)[view_session][:, None]
        said = asked != NONE
        affinity += np.where(said, np.where(getattr(catalog, name)[candidates] == asked, weight, -0.8), 0.0)
    noisy = affinity + rng.gumbel(0.0, 1.0, affinity.shape)
    best = np.argmax(noisy, axis=1)
    product = candidates[np.arange(candidates.shape[0]), best]
    fit = affinity[np.arange(candidates.shape[0]), best]
    quality = catalog.quality[product]
    clicked = rng.random(product.size) < _sigmoid(-0.9 + 0.6 * fit)
    carted = clicked & (rng.random(product.size) < _sigmoid(-1.2 + 0.5 * fit + 2.0 * (quality - 0.6)))
    bought = carted & (rng.random(product.size) < _sigmoid(0.2 + 0.4 * fit))

    event_session = np.concatenate(
        [view_session, view_session[clicked], view_session[carted], view_session[bought]]
    )
    event_product = np.concatenate([product, product[clicked], product[carted], product[bought]])
    event_type = np.concatenate(
        [
            np.full(product.size, VIEW),
            np.full(clicked.sum(), CLICK),
            np.full(carted.sum(), CART),
            np.full(bought.sum(), PURCHASE),
        ]
    ).astype(np.int8)
    event_order = np.concatenate(
        [
            3 * view_rank,
            3 * view_rank[clicked] + 1,
            3 * view_rank[carted] + 2,
            _ORDER_PURCHASE + view_rank[bought],
        ]
    )
    order = np.lexsort((event_order, event_session))
    event_session, event_product, event_type = event_session[order], event_product[order], event_type[order]

    gaps = rng.exponential(MEAN_GAP_US, event_session.size).astype(np.int64)
    elapsed = np.cumsum(gaps)
    first_of_session = np.ones(event_session.size, dtype=bool)
    first_of_session[1:] = event_session[1:] != event_session[:-1]
    starts_at = np.flatnonzero(first_of_session)
    lengths = np.diff(np.r_[starts_at, event_session.size])
    elapsed -= np.repeat(elapsed[starts_at] - gaps[starts_at], lengths)
    offset = np.minimum(_session_starts(rng, sessions)[event_session] + elapsed, DAY_US - 1)

    price = np.full(event_session.size, np.nan)
    paid = event_type == PURCHASE
    discount = np.where(rng.random(paid.sum()) < DISCOUNT_SHARE, rng.uniform(0.7, 0.9, paid.sum()), 1.0)
    price[paid] = np.round(catalog.price[event_product[paid]] * discount, 2)
    events = {
        "session": event_session,
        "user": session_user[event_session],
        "product": event_product,
        "type": event_type,
        "offset_us": offset,
        "rating": np.zeros(event_session.size, dtype=np.int32),
        "price": price,
    }
    purchases = Purchases(session_user[event_session[paid]], event_product[paid], offset[paid])
    return events, queries, purchases


def rating_events(ratings: Ratings, first_session: int) -> dict[str, np.ndarray]:
    """Rating events as flat arrays, each in a session of its own numbered from first_session."""
    n = ratings.user.size
    return {
        "session": first_session + np.arange(n),
        "user": ratings.user,
        "product": ratings.product,
        "type": np.full(n, RATE, dtype=np.int8),
        "offset_us": ratings.ts_us,
        "rating": ratings.rating.astype(np.int32),
        "price": np.full(n, np.nan),
    }


def events_frame(
    sessions: dict[str, np.ndarray],
    queries: list[str | None],
    ratings: dict[str, np.ndarray],
    day_start_us: int,
    id_stem: str,
) -> pl.DataFrame:
    """Landing event rows (EVENTS_SCHEMA) in time order; ids E<stem>0000042, sessions S<stem>000042."""
    columns = {name: np.concatenate([sessions[name], ratings[name]]) for name in sessions}
    order = np.lexsort((np.arange(columns["session"].size), columns["session"], columns["offset_us"]))
    columns = {name: values[order] for name, values in columns.items()}
    session_query = pl.Series([*queries, *([None] * ratings["session"].size)], dtype=pl.String)
    is_rating = columns["type"] == RATE
    n = order.size
    return pl.DataFrame(
        {
            L.EVENT_ID: "E" + id_stem + pl.Series(np.arange(n)).cast(pl.String).str.zfill(7),
            L.USER_ID: user_ids(columns["user"]),
            L.PRODUCT_ID: product_ids(columns["product"]),
            L.EVENT_TYPE: vocabulary_names(columns["type"], L.EVENT_TYPES),
            L.TS: pl.Series(day_start_us + columns["offset_us"], dtype=pl.Int64).cast(L.TIMESTAMP),
            L.SESSION_ID: "S" + id_stem + pl.Series(columns["session"]).cast(pl.String).str.zfill(6),
            L.QUERY: session_query.gather(columns["session"]) if n else pl.Series([], dtype=pl.String),
            L.RATING: masked(pl.Series(columns["rating"], dtype=pl.Int32), is_rating),
            L.PRICE: pl.Series(columns["price"], dtype=pl.Float64).fill_nan(None),
        },
        schema=L.EVENTS_SCHEMA,
    )
