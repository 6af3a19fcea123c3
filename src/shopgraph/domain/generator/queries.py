"""Search queries: intents, the text shoppers type for them, and relevance graded from hidden truth."""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import polars as pl

from shopgraph.domain.generator.catalog import (
    CATEGORY_DEPARTMENT,
    CATEGORY_WEIGHT,
    NONE,
    Catalog,
    product_ids,
)
from shopgraph.domain.generator.columns import vocabulary_names
from shopgraph.domain.generator.shelf import Shelf
from shopgraph.domain.generator.text import Slot, render
from shopgraph.domain.generator.vocabulary import (
    BRAND_INDEX,
    BRANDS,
    CATEGORIES,
    COLOUR_INDEX,
    COLOUR_SURFACES,
    COLOURS,
    DEPARTMENTS,
    MATERIAL_INDEX,
    MATERIAL_SURFACES,
    MATERIALS,
    SIZE_INDEX,
    SIZES,
    STYLE_INDEX,
    STYLE_SURFACES,
    STYLES,
    brand_surfaces,
    size_surfaces,
)
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T

QUERY_TEMPLATES = (
    "[{brand} ][{style} ][{colour} ][{material} ][{category}][ {size}]",
    "[{colour} ][{material} ][{category}][ {brand}][ {style}][ size {size}]",
    "[{category}][ in {colour}][ by {brand}][ {material}][ {style}][ {size}]",
    "[{style} ][{category}][ {colour}][ {material}][ from {brand}][ size {size}]",
    "[{audience} ][{brand} ][{colour} ][{category}][ {material}][ {style}][ {size}]",
)
TYPO_RATE = 0.06
BRAND_ONLY_SHARE = 0.08
JUDGED_EXACT, JUDGED_PARTIAL, JUDGED_NEARBY, JUDGED_RANDOM = 8, 8, 6, 6


@dataclass(frozen=True)
class Intents:
    """What each query asks for, as vocabulary indices; NONE where it does not say."""

    category: np.ndarray
    brand: np.ndarray
    colour: np.ndarray
    material: np.ndarray
    style: np.ndarray
    size: np.ndarray

    def __len__(self) -> int:
        return self.category.size


def _typo(text: str, rnd: random.Random) -> str:
    words = text.split(" ")
    long_words = [i for i, w in enumerate(words) if len(w) >= 4]
    if not long_words:
        return text
    index = rnd.choice(long_words)
    word = words[index]
    at = rnd.randrange(1, len(word) - 1)
    edit = rnd.randrange(3)
    if edit == 0:
        word = word[:at] + word[at + 1 :]
    elif edit == 1:
        word = word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :]
    else:
        word = word[:at] + word[at] + word[at:]
    words[index] = word
    return " ".join(words)


def compose_query(intents: Intents, row: int, rnd: random.Random) -> tuple[str, bool]:
    """The text a shopper types for an intent: varied word order, mostly lower case, sometimes misspelt."""

    def pick(forms: tuple[str, ...]) -> Slot:
        return Slot(forms[0] if rnd.random() < 0.6 else rnd.choice(forms))

    category = int(intents.category[row])
    slots: dict[str, Slot | None] = {
        name: None for name in ("category", "brand", "colour", "material", "style", "size", "audience")
    }
    if category != NONE:
        cat = CATEGORIES[category]
        slots["category"] = pick(cat.query_nouns + cat.nouns[:1])
        if cat.audience and rnd.random() < 0.3:
            slots["audience"] = Slot(cat.audience.lower().replace("'", ""))
    if intents.brand[row] != NONE:
        slots["brand"] = pick(brand_surfaces(BRANDS[intents.brand[row]][0]))
    if intents.colour[row] != NONE:
        slots["colour"] = pick(COLOUR_SURFACES[COLOURS[intents.colour[row]]])
    if intents.material[row] != NONE:
        slots["material"] = pick(MATERIAL_SURFACES[MATERIALS[intents.material[row]]])
    if intents.style[row] != NONE:
        slots["style"] = pick(STYLE_SURFACES[STYLES[intents.style[row]]])
    if intents.size[row] != NONE:
        slots["size"] = pick(size_surfaces(SIZES[intents.size[row]]))
    rendered = render(rnd.choice(QUERY_TEMPLATES), slots)
    text = " ".join(rendered[0].split()) if rendered else ""
    if rnd.random() < 0.9:
        text = text.lower()
    if rnd.random() < TYPO_RATE:
        typed = _typo(text, rnd)
        return typed, typed != text
    return text, False


def _maybe(rng: np.random.Generator, share: float, options: list[int]) -> int:
    if not options or rng.random() >= share:
        return NONE
    return options[int(rng.integers(0, len(options)))]


def sample_intents(count: int, rng: np.random.Generator) -> Intents:
    """Intents shoppers search with: a category with some of its attributes, or now and then a brand."""
    columns: dict[str, list[int]] = {
        k: [] for k in ("category", "brand", "colour", "material", "style", "size")
    }
    for _ in range(count):
        category = int(rng.choice(len(CATEGORIES), p=CATEGORY_WEIGHT))
        cat = CATEGORIES[category]
        dept = DEPARTMENTS[CATEGORY_DEPARTMENT[category]]
        brands = [BRAND_INDEX[name] for name, _ in dept.brands]
        if rng.random() < BRAND_ONLY_SHARE:
            values = dict.fromkeys(columns, NONE)
            values["brand"] = brands[int(rng.integers(0, len(brands)))]
        else:
            values = {
                "category": category,
                "brand": _maybe(rng, 0.25, brands),
                "colour": _maybe(rng, 0.5, [COLOUR_INDEX[c] for c in cat.colours]),
                "material": _maybe(rng, 0.25, [MATERIAL_INDEX[m] for m in cat.materials]),
                "style": _maybe(rng, 0.3, [STYLE_INDEX[s] for s in dept.styles]),
                "size": _maybe(rng, 0.1, [SIZE_INDEX[s] for s in cat.sizes]),
            }
        for key, value in values.items():
            columns[key].append(value)
    return Intents(**{k: np.asarray(v, dtype=np.int16) for k, v in columns.items()})


def grade_relevance(intents: Intents, row: int, catalog: Catalog, products: np.ndarray) -> np.ndarray:
    """Graded relevance 0-3 of products for one intent, from their true (hidden) attributes.

    3: right category (or brand, for brand-only queries) and every asked attribute; 2: right category and at
    least half of them; 1: right category otherwise, or same department with some asked attribute; 0: else.
    """
    asked = [
        (intents.brand[row], catalog.brand),
        (intents.colour[row], catalog.colour),
        (intents.material[row], catalog.material),
        (intents.style[row], catalog.style),
        (intents.size[row], catalog.size),
    ]
    asked = [(value, values) for value, values in asked if value != NONE]
    matches = np.zeros(products.size, dtype=np.int64)
    for value, values in asked:
        matches += values[products] == value
    all_match = matches == len(asked)
    category = intents.category[row]
    if category == NONE:
        return np.where(all_match & (len(asked) > 0), 3, np.where(matches > 0, 1, 0)).astype(np.int32)
    same_category = catalog.category[products] == category
    same_department = CATEGORY_DEPARTMENT[catalog.category[products]] == CATEGORY_DEPARTMENT[category]
    in_category = np.where(all_match, 3, np.where(2 * matches >= len(asked), 2, 1))
    return np.where(same_category, in_category, np.where(same_department & (matches > 0), 1, 0)).astype(
        np.int32
    )


def _sample(rng: np.random.Generator, pool: np.ndarray, count: int) -> np.ndarray:
    if pool.size <= count:
        return pool
    return rng.choice(pool, size=count, replace=False)


def judged_products(
    intents: Intents, row: int, catalog: Catalog, shelf: Shelf, rng: np.random.Generator
) -> np.ndarray:
    """Products put before a judge for one intent: exact and partial matches, neighbours and random ones."""
    category = intents.category[row]
    if category == NONE:
        pool = shelf.listed[catalog.brand[shelf.listed] == intents.brand[row]]
        nearby = np.empty(0, dtype=np.int64)
    else:
        pool = shelf.by_category[category]
        department = CATEGORY_DEPARTMENT[category]
        siblings = [c for c in np.flatnonzero(department == CATEGORY_DEPARTMENT) if c != category]
        nearby = shelf.by_category[int(rng.choice(siblings))] if siblings else np.empty(0, dtype=np.int64)
    grades = grade_relevance(intents, row, catalog, pool)
    chosen = np.concatenate(
        [
            _sample(rng, pool[grades == 3], JUDGED_EXACT),
            _sample(rng, pool[grades < 3], JUDGED_PARTIAL),
            _sample(rng, nearby, JUDGED_NEARBY),
            _sample(rng, shelf.listed, JUDGED_RANDOM),
        ]
    )
    return rng.permutation(np.unique(chosen))


def judgment_frames(
    catalog: Catalog,
    shelf: Shelf,
    count: int,
    id_stem: str,
    day_start_us: int,
    rng: np.random.Generator,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """A day's judged queries: landing rows (SEARCH_JUDGMENTS_SCHEMA) and intents (QUERY_INTENTS_SCHEMA)."""
    intents = sample_intents(count, rng)
    rnd = random.Random(int(rng.integers(0, 2**62)))
    query_ids = [f"Q{id_stem}{row:05d}" for row in range(count)]
    texts: list[str] = []
    typos: list[bool] = []
    judged_ids: list[str] = []
    judged_text: list[str] = []
    judged_products_: list[np.ndarray] = []
    judged_grades: list[np.ndarray] = []
    judged_at: list[np.ndarray] = []
    for row in range(count):
        text, typo = compose_query(intents, row, rnd)
        texts.append(text)
        typos.append(typo)
        products = judged_products(intents, row, catalog, shelf, rng)
        judged_ids.extend([query_ids[row]] * products.size)
        judged_text.extend([text] * products.size)
        judged_products_.append(products)
        judged_grades.append(grade_relevance(intents, row, catalog, products))
        started = day_start_us + int(rng.integers(8 * 3_600_000_000, 18 * 3_600_000_000))
        judged_at.append(started + np.cumsum(rng.integers(5_000_000, 90_000_000, products.size)))
    products_all = np.concatenate(judged_products_) if judged_products_ else np.empty(0, dtype=np.int64)
    judgments = pl.DataFrame(
        {
            L.QUERY_ID: pl.Series(judged_ids, dtype=pl.String),
            L.QUERY: pl.Series(judged_text, dtype=pl.String),
            L.PRODUCT_ID: product_ids(products_all),
            L.RELEVANCE: pl.Series(np.concatenate(judged_grades) if judged_grades else [], dtype=pl.Int32),
            L.JUDGED_AT: pl.Series(
                np.concatenate(judged_at) if judged_at else np.empty(0, dtype=np.int64), dtype=pl.Int64
            ).cast(L.TIMESTAMP),
        },
        schema=L.SEARCH_JUDGMENTS_SCHEMA,
    )
    return judgments, intent_frame(intents, query_ids, texts, typos)


def intent_frame(intents: Intents, query_ids: list[str], texts: list[str], typos: list[bool]) -> pl.DataFrame:
    """Hidden intents of queries (QUERY_INTENTS_SCHEMA), as names rather than indices."""

    names = vocabulary_names
    return pl.DataFrame(
        {
            L.QUERY_ID: pl.Series(query_ids, dtype=pl.String),
            L.QUERY: pl.Series(texts, dtype=pl.String),
            L.CATEGORY_PATH: names(intents.category, tuple(c.path for c in CATEGORIES)),
            L.BRAND: names(intents.brand, tuple(b for b, _, _ in BRANDS)),
            L.COLOUR: names(intents.colour, COLOURS),
            L.MATERIAL: names(intents.material, MATERIALS),
            L.STYLE: names(intents.style, STYLES),
            L.SIZE: names(intents.size, SIZES),
            T.HAS_TYPO: pl.Series(typos, dtype=pl.Boolean),
        },
        schema=T.QUERY_INTENTS_SCHEMA,
    )
