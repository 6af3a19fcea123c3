"""After a purchase: the buyer's experience (hidden quality, complaint themes), ratings and reviews."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import polars as pl

from shopgraph.domain.generator.catalog import NONE, Catalog, is_plural, product_ids
from shopgraph.domain.generator.columns import vocabulary_names
from shopgraph.domain.generator.sessions import Purchases
from shopgraph.domain.generator.users import user_ids
from shopgraph.domain.generator.vocabulary import CATEGORIES, COLOUR_SURFACES, COLOURS
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T

RATE_SHARE = 0.4
REVIEW_SHARE = 0.6
MAX_DELAY_DAYS = 7
DEFECT_NOTICED = 0.7
LOGISTICS_MISHAP = 0.04
LOGISTICS_THEMES = (
    T.COMPLAINT_THEMES.index(T.THEME_POOR_PACKAGING),
    T.COMPLAINT_THEMES.index(T.THEME_LATE_DELIVERY),
)


@dataclass(frozen=True)
class Feedback:
    """Ratings owed after purchases: who, what, due day, rating 1-5, theme met (or NONE), review or not."""

    user: np.ndarray
    product: np.ndarray
    due_day: np.ndarray
    rating: np.ndarray
    theme: np.ndarray
    review: np.ndarray

    def select(self, mask: np.ndarray) -> Feedback:
        return Feedback(*(values[mask] for values in self.__dict__.values()))

    def __len__(self) -> int:
        return self.user.size

    @staticmethod
    def empty() -> Feedback:
        empty = np.empty(0, dtype=np.int64)
        return Feedback(empty, empty, empty, empty, empty, np.empty(0, dtype=bool))

    def concat(self, other: Feedback) -> Feedback:
        return Feedback(
            *(
                np.concatenate([a, b])
                for a, b in zip(self.__dict__.values(), other.__dict__.values(), strict=True)
            )
        )


def rate_experience(
    quality: np.ndarray, product_theme: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Ratings 1-5 and experienced complaint theme per purchase.

    Satisfied buyers rate around 1 + 4 * quality. Buyers of a defective product (product_theme set) mostly
    hit its theme and rate 1-3; anyone may meet a packaging or delivery mishap that costs a star or two.
    """
    n = quality.size
    rating = np.clip(np.rint(1.0 + 4.0 * quality + rng.normal(0.0, 0.8, n)), 1, 5).astype(np.int64)
    noticed = (product_theme != NONE) & (rng.random(n) < DEFECT_NOTICED)
    rating = np.where(noticed, rng.choice([1, 2, 3], size=n, p=[0.55, 0.35, 0.10]), rating)
    mishap = ~noticed & (rng.random(n) < LOGISTICS_MISHAP)
    rating = np.where(mishap, np.maximum(rating - rng.integers(1, 3, n), 1), rating)
    theme = np.where(
        noticed, product_theme, np.where(mishap, np.asarray(LOGISTICS_THEMES)[rng.integers(0, 2, n)], NONE)
    )
    return rating, theme.astype(np.int64)


def plan_feedback(catalog: Catalog, purchases: Purchases, day: int, rng: np.random.Generator) -> Feedback:
    """Which purchases get rated (and reviewed) on which later day, with the rating and theme experienced."""
    rates = rng.random(purchases.user.size) < RATE_SHARE
    user, product = purchases.user[rates], purchases.product[rates]
    rating, theme = rate_experience(catalog.quality[product], catalog.theme[product].astype(np.int64), rng)
    return Feedback(
        user=user,
        product=product,
        due_day=day + rng.integers(1, MAX_DELAY_DAYS + 1, user.size),
        rating=rating,
        theme=theme,
        review=rng.random(user.size) < REVIEW_SHARE,
    )


TITLES = {
    5: ("Love it!", "Perfect {noun}", "Exactly what I wanted", "Five stars", "Brilliant"),
    4: ("Very good", "Great value", "Nice {noun}", "Happy with it", "Solid buy"),
    3: ("It's okay", "Average", "Does the job", "Mixed feelings"),
    2: ("Disappointed", "Not great", "Expected more", "Meh"),
    1: ("Terrible", "Avoid", "Waste of money", "Very poor"),
}
POSITIVE = (
    "Great quality for the price.",
    "Really happy with {this} {noun}.",
    "Would buy again.",
    "The {colour} looks even better in person.",
    "Exactly as described.",
    "Arrived quickly and well packed.",
    "My second one, still love it.",
    "Feels really well made.",
)
NEUTRAL = (
    "It's fine, nothing special.",
    "Decent but a bit overpriced.",
    "Does what it says.",
    "Quality is okay for everyday use.",
    "Took a while to get used to.",
)
NEGATIVE = ("Not worth the money.", "I expected better quality.", "Would not buy again.", "Sent it back.")
THEME_SENTENCES = {
    T.THEME_DEFECTIVE: (
        "Stopped working after {n} days.",
        "Arrived broken.",
        "The {noun} fell apart within a week.",
        "Faulty out of the box.",
        "Started falling apart after the first use.",
    ),
    T.THEME_WRONG_SIZE: (
        "Runs very {fit}, I had to return it.",
        "Size is way off, order one size {updown}.",
        "Nothing like the size chart says.",
        "Way too {fit} for the size I ordered.",
    ),
    T.THEME_NOT_AS_DESCRIBED: (
        "Looks nothing like the photos.",
        "The colour is completely different from the picture.",
        "Not the material advertised.",
        "Cheaper looking than described.",
    ),
    T.THEME_POOR_PACKAGING: (
        "Packaging was torn and the box was crushed.",
        "Arrived in a flimsy bag with no protection.",
        "The box was damaged and wet when it came.",
    ),
    T.THEME_LATE_DELIVERY: (
        "Took {n} weeks to arrive.",
        "Delivery was {n} days late.",
        "Still waiting on updates from the courier, it came far too late.",
    ),
}


def _review_text(
    rating: int, theme: int, noun: str, colour: str | None, rnd: random.Random
) -> tuple[str | None, str]:
    fills = {
        "noun": noun,
        "this": "these" if is_plural(noun) else "this",
        "colour": colour or "colour",
        "n": str(rnd.randint(2, 9)),
        "fit": rnd.choice(("small", "large")),
        "updown": rnd.choice(("up", "down")),
    }
    sentences: list[str] = []
    if theme != NONE:
        sentences.append(rnd.choice(THEME_SENTENCES[T.COMPLAINT_THEMES[theme]]))
    pool = POSITIVE if rating >= 4 else NEUTRAL if rating == 3 else NEGATIVE
    sentences.extend(rnd.sample(pool, rnd.randint(1, 2)))
    if theme != NONE and rating >= 3:
        sentences.append("Otherwise fine.")
    rnd.shuffle(sentences)
    text = " ".join(s.format(**fills) for s in sentences)
    title = None if rnd.random() < 0.1 else rnd.choice(TITLES[rating]).format(**fills)
    return title, text


def review_frames(
    catalog: Catalog,
    feedback: Feedback,
    ts_us: np.ndarray,
    id_stem: str,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Landing reviews (REVIEWS_SCHEMA) for feedback with review set, and themes (REVIEW_TRUTH_SCHEMA)."""
    rows = np.flatnonzero(feedback.review)
    rnd = random.Random(int(rng.integers(0, 2**62)))
    titles: list[str | None] = []
    texts: list[str] = []
    for row in rows.tolist():
        product = feedback.product[row]
        cat = CATEGORIES[catalog.category[product]]
        colour = (
            COLOUR_SURFACES[COLOURS[catalog.colour[product]]][0] if catalog.colour[product] != NONE else None
        )
        title, text = _review_text(
            int(feedback.rating[row]), int(feedback.theme[row]), rnd.choice(cat.nouns), colour, rnd
        )
        titles.append(title)
        texts.append(text)
    ids = "R" + id_stem + pl.Series(np.arange(rows.size)).cast(pl.String).str.zfill(6)
    products = product_ids(feedback.product[rows])
    reviews = pl.DataFrame(
        {
            L.REVIEW_ID: ids,
            L.USER_ID: user_ids(feedback.user[rows]),
            L.PRODUCT_ID: products,
            L.RATING: pl.Series(feedback.rating[rows], dtype=pl.Int32),
            L.TITLE: pl.Series(titles, dtype=pl.String),
            L.TEXT: pl.Series(texts, dtype=pl.String),
            L.TS: pl.Series(ts_us[rows], dtype=pl.Int64).cast(L.TIMESTAMP),
        },
        schema=L.REVIEWS_SCHEMA,
    )
    truth = pl.DataFrame(
        {
            L.REVIEW_ID: ids,
            L.PRODUCT_ID: products,
            T.THEME: vocabulary_names(feedback.theme[rows], T.COMPLAINT_THEMES),
        },
        schema=T.REVIEW_TRUTH_SCHEMA,
    )
    return reviews, truth
