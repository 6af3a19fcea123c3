"""The product catalog: hidden product state as numpy arrays, and listings rendered with entity spans."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

import numpy as np
import polars as pl

from shopgraph.domain.generator.columns import NEVER, NONE, day_dates, vocabulary_names
from shopgraph.domain.generator.rng import text_random
from shopgraph.domain.generator.text import (
    Slot,
    Span,
    capitalise_first,
    join_sentences,
    render,
    title_words,
)
from shopgraph.domain.generator.vocabulary import (
    BRANDS,
    CATEGORIES,
    COLOUR_INDEX,
    COLOUR_SURFACES,
    COLOURS,
    DEPARTMENT_INDEX,
    DEPARTMENTS,
    MATERIAL_INDEX,
    MATERIAL_SURFACES,
    MATERIALS,
    SIZE_INDEX,
    SIZES,
    STYLE_INDEX,
    STYLE_SURFACES,
    STYLES,
    TIER_PRICE_FACTOR,
    TIERS,
    brand_surfaces,
    size_surfaces,
)
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T

CURRENCY = "EUR"

# Bits of Catalog.gaps: structured landing columns left empty although the text may name the value.
GAP_BRAND, GAP_COLOUR, GAP_MATERIAL, GAP_SIZE, GAP_STYLE, GAP_DESCRIPTION = 1, 2, 4, 8, 16, 32
_GAP_RATES = (
    (GAP_BRAND, 0.03),
    (GAP_COLOUR, 0.12),
    (GAP_MATERIAL, 0.15),
    (GAP_SIZE, 0.10),
    (GAP_STYLE, 0.30),
    (GAP_DESCRIPTION, 0.02),
)

NEW_PRODUCTS_PER_DAY = 0.004
DEFECT_RATE_BY_TIER = (0.10, 0.06, 0.04)
THEME_WEIGHTS = (0.35, 0.20, 0.25, 0.10, 0.10)
_SIZED_DEPARTMENTS = ("Clothing", "Shoes")

CATEGORY_DEPARTMENT = np.array([DEPARTMENT_INDEX[c.department] for c in CATEGORIES], dtype=np.int16)
CATEGORY_PATHS = tuple(c.path for c in CATEGORIES)
CATEGORY_DEPARTMENT_LIST: list[int] = CATEGORY_DEPARTMENT.tolist()
CATEGORY_BASE_PRICE = np.array([c.base_price for c in CATEGORIES])
CATEGORY_WEIGHT = np.array([c.weight for c in CATEGORIES]) / sum(c.weight for c in CATEGORIES)
BRAND_TIER = np.array([tier for _, _, tier in BRANDS], dtype=np.int8)
BRAND_DEPARTMENT = np.array([DEPARTMENT_INDEX[dept] for _, dept, _ in BRANDS], dtype=np.int16)


@dataclass
class Catalog:
    """Every product the run will ever list, by index; price, deleted_day and text_version change by day."""

    category: np.ndarray
    brand: np.ndarray
    colour: np.ndarray
    material: np.ndarray
    size: np.ndarray
    style: np.ndarray
    tier: np.ndarray
    base_price: np.ndarray
    quality: np.ndarray
    defective: np.ndarray
    theme: np.ndarray
    popularity: np.ndarray
    created_day: np.ndarray
    text_seed: np.ndarray
    gaps: np.ndarray
    price: np.ndarray = field(init=False)
    deleted_day: np.ndarray = field(init=False)
    text_version: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.price = self.base_price.copy()
        self.deleted_day = np.full(len(self.category), NEVER, dtype=np.int32)
        self.text_version = np.zeros(len(self.category), dtype=np.int32)

    def __len__(self) -> int:
        return len(self.category)

    def listed(self, day: int) -> np.ndarray:
        """Mask of products shoppers can see on a day: published before it (or initial), not deleted."""
        published = (self.created_day == 0) | (self.created_day < day)
        return published & (self.deleted_day > day)


def _pick(rng: np.random.Generator, options: list[int], size: int) -> np.ndarray:
    if not options:
        return np.full(size, NONE, dtype=np.int16)
    return np.asarray(options, dtype=np.int16)[rng.integers(0, len(options), size)]


def list_prices(raw: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Shop-style list prices from raw amounts: 24.99, 18.95, 7.49; above 100 a round ten less a cent."""
    endings = np.array([0.99, 0.95, 0.49, 0.0])[rng.integers(0, 4, raw.size)]
    small = np.maximum(np.floor(raw), 1.0) + endings
    large = np.round(raw / 10.0) * 10.0 - 0.01
    return np.round(np.where(raw >= 100.0, large, small), 2)


def plan_catalog(initial: int, days: int, rng: np.random.Generator) -> Catalog:
    """Hidden state of the initial catalog plus the products that appear on later days."""
    new_per_day = rng.poisson(max(initial * NEW_PRODUCTS_PER_DAY, 0.5), size=max(days - 1, 0))
    created_day = np.concatenate(
        [np.zeros(initial, dtype=np.int32)]
        + [np.full(count, day, dtype=np.int32) for day, count in enumerate(new_per_day, start=1)]
    )
    n = len(created_day)
    category = rng.choice(len(CATEGORIES), size=n, p=CATEGORY_WEIGHT).astype(np.int16)
    brand = np.empty(n, dtype=np.int16)
    colour = np.empty(n, dtype=np.int16)
    material = np.empty(n, dtype=np.int16)
    size = np.empty(n, dtype=np.int16)
    style = np.empty(n, dtype=np.int16)
    for index, cat in enumerate(CATEGORIES):
        rows = np.flatnonzero(category == index)
        dept = DEPARTMENTS[DEPARTMENT_INDEX[cat.department]]
        brands = [i for i, (_, name, _) in enumerate(BRANDS) if name == dept.name]
        brand[rows] = _pick(rng, brands, rows.size)
        colour[rows] = _pick(rng, [COLOUR_INDEX[c] for c in cat.colours], rows.size)
        material[rows] = _pick(rng, [MATERIAL_INDEX[m] for m in cat.materials], rows.size)
        size[rows] = _pick(rng, [SIZE_INDEX[s] for s in cat.sizes], rows.size)
        style[rows] = _pick(rng, [STYLE_INDEX[s] for s in dept.styles], rows.size)
    tier = BRAND_TIER[brand]
    raw_price = (
        CATEGORY_BASE_PRICE[category] * np.asarray(TIER_PRICE_FACTOR)[tier] * rng.lognormal(0, 0.25, n)
    )
    base_price = list_prices(raw_price, rng)
    alpha = np.array([3.0, 4.5, 6.0])[tier]
    beta = np.array([2.2, 2.0, 1.8])[tier]
    quality = rng.beta(alpha, beta)
    defective = rng.random(n) < np.asarray(DEFECT_RATE_BY_TIER)[tier]
    quality = np.where(defective, quality * 0.6, quality)
    theme = np.where(defective, rng.choice(len(T.COMPLAINT_THEMES), size=n, p=THEME_WEIGHTS), NONE)
    sized = np.isin(CATEGORY_DEPARTMENT[category], [DEPARTMENT_INDEX[d] for d in _SIZED_DEPARTMENTS])
    wrong_size = T.COMPLAINT_THEMES.index(T.THEME_WRONG_SIZE)
    theme = np.where(
        (theme == wrong_size) & ~sized, T.COMPLAINT_THEMES.index(T.THEME_NOT_AS_DESCRIBED), theme
    )
    popularity = rng.lognormal(0.0, 1.0, n) * (0.5 + quality)
    text_seed = rng.integers(0, 2**62, n, dtype=np.int64)
    gaps = np.zeros(n, dtype=np.uint8)
    for bit, rate in _GAP_RATES:
        gaps |= np.where(rng.random(n) < rate, bit, 0).astype(np.uint8)
    return Catalog(
        category=category,
        brand=brand,
        colour=colour,
        material=material,
        size=size,
        style=style,
        tier=tier,
        base_price=base_price,
        quality=quality,
        defective=defective,
        theme=theme.astype(np.int8),
        popularity=popularity,
        created_day=created_day,
        text_seed=text_seed,
        gaps=gaps,
    )


def product_ids(indices: np.ndarray) -> pl.Series:
    """Product keys for catalog indices: P00000042."""
    return "P" + pl.Series(L.PRODUCT_ID, np.asarray(indices, dtype=np.int64)).cast(pl.String).str.zfill(8)


TITLE_TEMPLATES = (
    "[{brand} ][{audience} ][{colour} ][{material} ]{category}[ - {size}]",
    "[{brand} ][{style} ]{category}[ in {colour}][, {material}]",
    "{category}[ by {brand}][ | {colour}][ | Size {size}]",
    "[{style} ][{material} ]{category}[ ({colour})][ from {brand}]",
    "[{brand}: ][{colour} ][{style} ]{category}[ made of {material}]",
    "[{brand} ]{category}[, {colour}][, {size}]",
    "[{audience} ][{material} ]{category}[ – {brand}][ – {colour}][ – {size}]",
    "[{brand} ][{style} ][{colour} ]{category}[ ({size})]",
)
_TITLE_DROP = {"brand": 0.12, "colour": 0.2, "material": 0.3, "size": 0.35, "style": 0.35, "audience": 0.4}

INTRO_TEMPLATES = (
    "[{brand} presents ]{article}[ {style}] {category} made for everyday use.",
    "Meet the[ {brand}] {category}.",
    "The classic {category}, reimagined[ by {brand}][ in {style} style].",
    "Need {article} {category}? This one[ from {brand}] has you covered.",
    "Our best-selling {category}[, now in {colour}].",
    "[{style} and ]made to last: the {category}[ by {brand}].",
    "{article} {category} you will reach for again and again.",
)
SENTENCE_TEMPLATES: dict[str, tuple[str, ...]] = {
    "brand": (
        "Designed by {brand}.",
        "From the {brand} collection.",
        "{brand} quality you can trust.",
        "Part of the latest {brand} range.",
    ),
    "colour": (
        "Available in {colour}.",
        "Comes in a rich {colour} shade.",
        "Colour: {colour}.",
        "Shown here in {colour}.",
        "The {colour} finish pairs easily with the rest of your things.",
    ),
    "material": (
        "Made from {material}.",
        "Crafted from durable {material}.",
        "Material: {material}.",
        "The {material} construction feels solid and looks great.",
        "Built with {material} for comfort and durability.",
    ),
    "size": (
        "Size: {size}.",
        "This listing is for size {size}.",
        "Sold in {size}.",
        "You are buying the {size} version.",
    ),
    "style": (
        "A {style} design that never goes out of fashion.",
        "Its {style} look suits any occasion.",
        "Style: {style}.",
        "Go {style} with this one.",
    ),
}
_SENTENCE_KEEP = 0.7
_INTRO_KEEP = 0.6
_ALWAYS_SAID = ("category", "article")
_SENTENCE_ORDER = ("brand", "colour", "material", "size", "style")


def is_plural(noun: str) -> bool:
    """Nouns such as 'trousers' or 'running shoes' (but not 'dress') name a pair or a set."""
    return noun.endswith("s") and not noun.endswith("ss")


def article(noun: str) -> str:
    """The indefinite article a noun takes: 'a', 'an' or 'a pair of'."""
    if is_plural(noun):
        return "a pair of"
    return "an" if noun[:1].lower() in "aeiou" else "a"


def _surface(rnd: random.Random, forms: tuple[str, ...]) -> str:
    # The registered form dominates; variants keep a model from memorising one spelling.
    return forms[0] if rnd.random() < 0.5 else rnd.choice(forms)


class Facts(NamedTuple):
    """One product's true attributes as plain ints (vocabulary indices, NONE for none), for fast rendering."""

    category: int
    brand: int
    colour: int
    material: int
    size: int
    style: int
    text_seed: int


def product_facts(catalog: Catalog, indices: np.ndarray) -> list[Facts]:
    """Facts for the given products, read from the catalog arrays in one pass."""
    columns = (catalog.category, catalog.brand, catalog.colour, catalog.material, catalog.size, catalog.style)
    lists = [column[indices].tolist() for column in columns]
    seeds = catalog.text_seed[indices].tolist()
    return [
        Facts(category, brand, colour, material, size, style, seed)
        for category, brand, colour, material, size, style, seed in zip(*lists, seeds, strict=True)
    ]


def _product_noun(facts: Facts, rnd: random.Random) -> str:
    # A product is one kind of thing (a skillet, never a saucepan); the leaf's generic noun may stand in.
    nouns = CATEGORIES[facts.category].nouns
    own = nouns[facts.text_seed % len(nouns)]
    return own if rnd.random() < 0.8 else nouns[0]


def _entity_slots(facts: Facts, rnd: random.Random) -> dict[str, Slot | None]:
    cat = CATEGORIES[facts.category]
    noun = _product_noun(facts, rnd)
    brand = BRANDS[facts.brand][0]
    colour = COLOURS[facts.colour] if facts.colour != NONE else None
    material = MATERIALS[facts.material] if facts.material != NONE else None
    size = SIZES[facts.size] if facts.size != NONE else None
    style = STYLES[facts.style]
    return {
        "category": Slot(noun, T.ENTITY_CATEGORY, cat.path),
        "article": Slot(article(noun)),
        "audience": Slot(cat.audience) if cat.audience else None,
        "brand": Slot(_surface(rnd, brand_surfaces(brand)), T.ENTITY_BRAND, brand),
        "colour": Slot(_surface(rnd, COLOUR_SURFACES[colour]), T.ENTITY_COLOUR, colour) if colour else None,
        "material": Slot(_surface(rnd, MATERIAL_SURFACES[material]), T.ENTITY_MATERIAL, material)
        if material
        else None,
        "size": Slot(_surface(rnd, size_surfaces(size)), T.ENTITY_SIZE, size) if size else None,
        "style": Slot(_surface(rnd, STYLE_SURFACES[style]), T.ENTITY_STYLE, style),
    }


def _title(slots: dict[str, Slot | None], rnd: random.Random) -> tuple[str, list[Span]]:
    chosen = dict(slots)
    for name, rate in _TITLE_DROP.items():
        if rnd.random() < rate:
            chosen[name] = None
    casing = rnd.random()
    for name, slot in chosen.items():
        if slot is None:
            continue
        if name == "brand" and casing > 0.85:
            chosen[name] = Slot(slot.surface.upper(), slot.type, slot.canonical)
        elif name != "size" and casing > 0.45:
            chosen[name] = Slot(title_words(slot.surface), slot.type, slot.canonical)
    rendered = render(rnd.choice(TITLE_TEMPLATES), chosen)
    assert rendered is not None, "every title template has a required category"
    return capitalise_first(*rendered)


def _description(facts: Facts, rnd: random.Random) -> tuple[str, list[Span]]:
    # Each mention draws its own surface form, so a title and description may spell a value differently.
    fresh = _entity_slots(facts, rnd)
    mentioned = {
        name: slot if name in _ALWAYS_SAID or rnd.random() < _INTRO_KEEP else None
        for name, slot in fresh.items()
    }
    intro = render(rnd.choice(INTRO_TEMPLATES), mentioned)
    assert intro is not None, "intro templates need only the category and its article"
    sentences = [capitalise_first(*intro)]
    named = {span.type for span in intro[1]}
    body: list[tuple[str, list[Span]]] = []
    for name in _SENTENCE_ORDER:
        slot = fresh[name]
        if slot is None or name in named or rnd.random() > _SENTENCE_KEEP:
            continue
        rendered = render(rnd.choice(SENTENCE_TEMPLATES[name]), {name: slot})
        if rendered is not None:
            body.append(capitalise_first(*rendered))
    dept = DEPARTMENTS[CATEGORY_DEPARTMENT_LIST[facts.category]]
    body.extend((filler, []) for filler in rnd.sample(dept.fillers, rnd.randint(1, 3)))
    rnd.shuffle(body)
    return join_sentences(sentences + body)


def _attributes(facts: Facts, rnd: random.Random, keys: list[str], values: list[str]) -> int:
    # Appends the product's spec pairs to keys and values; returns how many.
    dept = DEPARTMENTS[CATEGORY_DEPARTMENT_LIST[facts.category]]
    pairs = rnd.sample(dept.attributes, rnd.randint(1, len(dept.attributes)))
    for key, options in pairs:
        keys.append(key)
        values.append(rnd.choice(options))
    return len(pairs)


def attribute_series(keys: list[str], values: list[str], counts: list[int]) -> pl.Series:
    """A list-of-struct (key, value) column from flat pairs and the number of pairs per row (each >= 1)."""
    pairs = pl.DataFrame(
        {
            "row": np.repeat(np.arange(len(counts)), counts),
            L.ATTRIBUTE_KEY: pl.Series(keys, dtype=pl.String),
            L.ATTRIBUTE_VALUE: pl.Series(values, dtype=pl.String),
        }
    )
    nested = pairs.group_by("row", maintain_order=True).agg(
        pl.struct(L.ATTRIBUTE_KEY, L.ATTRIBUTE_VALUE).alias(L.ATTRIBUTES)
    )
    return nested[L.ATTRIBUTES].cast(L.ATTRIBUTE_PAIRS)


def listing_frames(
    catalog: Catalog, indices: np.ndarray, updated_at_us: np.ndarray
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Landing rows (PRODUCTS_SCHEMA) for live products and their entity spans (PRODUCT_ENTITIES_SCHEMA).

    Texts are rendered from each product's text_seed and text_version, so an unchanged product renders
    identically on every day; structured columns are left null where Catalog.gaps says so.
    """
    titles: list[str] = []
    descriptions: list[str | None] = []
    attribute_keys: list[str] = []
    attribute_values: list[str] = []
    attribute_counts: list[int] = []
    span_rows: list[int] = []
    span_field: list[str] = []
    span_start: list[int] = []
    span_end: list[int] = []
    span_type: list[str] = []
    span_value: list[str] = []
    span_canonical: list[str] = []
    versions = catalog.text_version[indices].tolist()
    described = ((catalog.gaps[indices] & GAP_DESCRIPTION) == 0).tolist()
    for row, facts in enumerate(product_facts(catalog, indices)):
        rnd = text_random(facts.text_seed * 1009 + versions[row])
        title, title_spans = _title(_entity_slots(facts, rnd), rnd)
        description, description_spans = _description(facts, rnd) if described[row] else (None, [])
        titles.append(title)
        descriptions.append(description)
        attribute_counts.append(_attributes(facts, rnd, attribute_keys, attribute_values))
        for field_name, spans in ((T.FIELD_TITLE, title_spans), (T.FIELD_DESCRIPTION, description_spans)):
            for span in spans:
                span_rows.append(row)
                span_field.append(field_name)
                span_start.append(span.start)
                span_end.append(span.end)
                span_type.append(span.type)
                span_value.append(span.value)
                span_canonical.append(span.canonical)
    ids = product_ids(indices)
    gaps = catalog.gaps[indices]

    def structured(values: np.ndarray, names: tuple[str, ...], bit: int) -> pl.Series:
        return vocabulary_names(values, names, present=(gaps & bit) == 0)

    brand_names = tuple(name for name, _, _ in BRANDS)
    products = pl.DataFrame(
        {
            L.PRODUCT_ID: ids,
            L.TITLE: pl.Series(titles, dtype=pl.String),
            L.DESCRIPTION: pl.Series(descriptions, dtype=pl.String),
            L.BRAND: structured(catalog.brand[indices], brand_names, GAP_BRAND),
            L.CATEGORY_PATH: vocabulary_names(catalog.category[indices], CATEGORY_PATHS),
            L.PRICE: pl.Series(catalog.price[indices], dtype=pl.Float64),
            L.CURRENCY: pl.Series([CURRENCY] * len(indices), dtype=pl.String),
            L.COLOUR: structured(catalog.colour[indices], COLOURS, GAP_COLOUR),
            L.MATERIAL: structured(catalog.material[indices], MATERIALS, GAP_MATERIAL),
            L.SIZE: structured(catalog.size[indices], SIZES, GAP_SIZE),
            L.STYLE: structured(catalog.style[indices], STYLES, GAP_STYLE),
            L.ATTRIBUTES: attribute_series(attribute_keys, attribute_values, attribute_counts),
            L.IS_DELETED: pl.Series(np.zeros(len(indices), dtype=bool)),
            L.UPDATED_AT: pl.Series(updated_at_us, dtype=pl.Int64).cast(L.TIMESTAMP),
        },
        schema=L.PRODUCTS_SCHEMA,
    )
    entities = pl.DataFrame(
        {
            L.PRODUCT_ID: ids.gather(span_rows) if span_rows else pl.Series([], dtype=pl.String),
            T.FIELD: span_field,
            T.START: span_start,
            T.END: span_end,
            T.ENTITY_TYPE: span_type,
            T.VALUE: span_value,
            T.CANONICAL: span_canonical,
        },
        schema=T.PRODUCT_ENTITIES_SCHEMA,
    )
    return products, entities


def tombstone_frame(ids: pl.Series, updated_at_us: np.ndarray, schema: pl.Schema, key: str) -> pl.DataFrame:
    """Tombstones for a change-set table: key, is_deleted = true and updated_at; all else null."""
    columns = {name: pl.Series(name, [None] * len(ids), dtype=dtype) for name, dtype in schema.items()}
    columns[key] = ids.alias(key)
    columns[L.IS_DELETED] = pl.Series(L.IS_DELETED, np.ones(len(ids), dtype=bool))
    columns[L.UPDATED_AT] = pl.Series(L.UPDATED_AT, updated_at_us, dtype=pl.Int64).cast(L.TIMESTAMP)
    return pl.DataFrame(columns, schema=schema)


def product_truth_frame(catalog: Catalog, start_date: date) -> pl.DataFrame:
    """Hidden state of every product ever listed (PRODUCT_TRUTH_SCHEMA): true attributes, quality, defects."""
    names = vocabulary_names
    return pl.DataFrame(
        {
            L.PRODUCT_ID: product_ids(np.arange(len(catalog))),
            T.DEPARTMENT: names(CATEGORY_DEPARTMENT[catalog.category], tuple(d.name for d in DEPARTMENTS)),
            L.CATEGORY_PATH: names(catalog.category, CATEGORY_PATHS),
            L.BRAND: names(catalog.brand, tuple(b for b, _, _ in BRANDS)),
            T.BRAND_TIER: names(catalog.tier, TIERS),
            L.COLOUR: names(catalog.colour, COLOURS),
            L.MATERIAL: names(catalog.material, MATERIALS),
            L.SIZE: names(catalog.size, SIZES),
            L.STYLE: names(catalog.style, STYLES),
            T.BASE_PRICE: catalog.base_price,
            T.QUALITY: catalog.quality,
            T.IS_DEFECTIVE: catalog.defective,
            T.DEFECT_THEME: names(catalog.theme, T.COMPLAINT_THEMES),
            T.POPULARITY: catalog.popularity,
            T.CREATED_DT: day_dates(catalog.created_day, start_date),
            T.DELETED_DT: day_dates(catalog.deleted_day, start_date),
        },
        schema=T.PRODUCT_TRUTH_SCHEMA,
    )
