"""Weak labels: a product's catalog values (and their synonyms) found in its title and description."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

import polars as pl

from shopgraph.domain.ner.text import Word, split_words, value_keys, word_key
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T

CATEGORY_SEPARATOR = " > "
# Values this short ("S", "M", "XL", "42") match only with the exact case, so "m" in "5 m" is no size.
EXACT_CASE_MAX_CHARS = 2
TEXT_FIELDS: tuple[str, ...] = (T.FIELD_TITLE, T.FIELD_DESCRIPTION)
# Catalog column read for each built-in entity type.
TYPE_COLUMNS: dict[str, str] = {
    T.ENTITY_BRAND: L.BRAND,
    T.ENTITY_COLOUR: L.COLOUR,
    T.ENTITY_MATERIAL: L.MATERIAL,
    T.ENTITY_CATEGORY: L.CATEGORY_PATH,
    T.ENTITY_SIZE: L.SIZE,
    T.ENTITY_STYLE: L.STYLE,
}
SPAN_SCHEMA = pl.Schema(
    {
        L.PRODUCT_ID: pl.String(),
        T.FIELD: pl.String(),
        T.START: pl.Int32(),
        T.END: pl.Int32(),
        T.ENTITY_TYPE: pl.String(),
        T.VALUE: pl.String(),
        T.CANONICAL: pl.String(),
    }
)

# type -> canonical value -> other surface forms, as in conf/ner/synonyms.yaml.
Synonyms = Mapping[str, Mapping[str, Sequence[str]]]


class Candidate(NamedTuple):
    """A surface form to look for: its type, the canonical value it stands for, its word keys."""

    type: str
    canonical: str
    keys: tuple[str, ...]
    exact: tuple[str, ...] | None  # the words as written, when the case must match


class Match(NamedTuple):
    """A found entity: [start, end) in code points, type, canonical value."""

    start: int
    end: int
    type: str
    canonical: str


def category_leaf(category_path: str) -> str:
    """The last part of a category path: 'Clothing > Women > Dresses' -> 'Dresses'."""
    return category_path.split(CATEGORY_SEPARATOR)[-1].strip()


def _candidate(entity_type: str, canonical: str, surface: str) -> Candidate | None:
    keys = value_keys(surface)
    if not keys:
        return None
    short = sum(len(k) for k in keys) <= EXACT_CASE_MAX_CHARS
    exact = tuple(w.text for w in split_words(surface) if word_key(w.text)) if short else None
    return Candidate(entity_type, canonical, keys, exact)


def synonyms_for(synonyms: Synonyms, entity_type: str, value: str) -> list[str]:
    """Listed surface forms of a value (its synonyms entry is found ignoring case, accents and plurals)."""
    wanted = value_keys(value)
    for canonical, forms in synonyms.get(entity_type, {}).items():
        if value_keys(canonical) == wanted:
            return [canonical, *forms]
    return []


def product_candidates(values: Mapping[str, Iterable[str]], synonyms: Synonyms) -> list[Candidate]:
    """Candidates for one product's values by type; a category value is its path (matched by its leaf)."""
    found: dict[tuple[str, tuple[str, ...]], Candidate] = {}
    for entity_type, type_values in values.items():
        for value in type_values:
            if not value or not value.strip():
                continue
            surface = category_leaf(value) if entity_type == T.ENTITY_CATEGORY else value
            for form in [surface, *synonyms_for(synonyms, entity_type, surface)]:
                candidate = _candidate(entity_type, value, form)
                if candidate is not None:
                    found.setdefault((entity_type, candidate.keys), candidate)
    return list(found.values())


def find_matches(text: str, candidates: Sequence[Candidate]) -> list[Match]:
    """Every occurrence of every candidate in the text, on whole words, overlaps included."""
    words = split_words(text)
    keyed: list[tuple[int, str]] = [(i, k) for i, w in enumerate(words) if (k := word_key(w.text))]
    keys = [k for _, k in keyed]
    starts: dict[str, list[int]] = {}
    for at, key in enumerate(keys):
        starts.setdefault(key, []).append(at)
    matches: list[Match] = []
    for candidate in candidates:
        size = len(candidate.keys)
        for at in starts.get(candidate.keys[0], ()):
            if tuple(keys[at : at + size]) != candidate.keys:
                continue
            first, last = keyed[at][0], keyed[at + size - 1][0]
            if candidate.exact is not None and _written(words, keyed, at, size) != candidate.exact:
                continue
            matches.append(Match(words[first].start, words[last].end, candidate.type, candidate.canonical))
    return matches


def _written(words: list[Word], keyed: list[tuple[int, str]], at: int, size: int) -> tuple[str, ...]:
    return tuple(words[index].text for index, _ in keyed[at : at + size])


def resolve_overlaps(matches: Iterable[Match]) -> list[Match]:
    """Non-overlapping matches, longest first (ties: earliest, then type name), returned in text order."""
    chosen: list[Match] = []
    for match in sorted(set(matches), key=lambda m: (-(m.end - m.start), m.start, m.type, m.canonical)):
        if all(match.end <= kept.start or match.start >= kept.end for kept in chosen):
            chosen.append(match)
    return sorted(chosen)


def label_text(text: str, candidates: Sequence[Candidate]) -> list[Match]:
    """The weak-label entities of one text: matches of the candidates with overlaps resolved."""
    return resolve_overlaps(find_matches(text, candidates))


def product_values(row: Mapping[str, object], attribute_types: Mapping[str, str]) -> dict[str, list[str]]:
    """A product row's catalog values by entity type, with configured `attributes` keys as extra types."""
    values: dict[str, list[str]] = {}
    for entity_type, column in TYPE_COLUMNS.items():
        value = row.get(column)
        if isinstance(value, str) and value.strip():
            values.setdefault(entity_type, []).append(value)
    pairs = row.get(L.ATTRIBUTES) or []
    for pair in pairs if isinstance(pairs, list) else []:
        extra_type = attribute_types.get(str(pair.get(L.ATTRIBUTE_KEY)))
        extra_value = pair.get(L.ATTRIBUTE_VALUE)
        if extra_type and isinstance(extra_value, str) and extra_value.strip():
            values.setdefault(extra_type, []).append(extra_value)
    return values


def weak_label_spans(
    products: pl.DataFrame,
    synonyms: Synonyms,
    attribute_types: Mapping[str, str] | None = None,
    fields: Sequence[str] = TEXT_FIELDS,
) -> pl.DataFrame:
    """Weak-label spans (SPAN_SCHEMA) of each product's text fields from its own catalog values.

    Reads product_id, the text fields (title, description), brand, category_path, colour, material, size,
    style and attributes (when attribute_types maps its keys); writes product_id, field, start, end, type,
    value (the text there) and canonical (the catalog value; the category path for category).
    """
    rows: list[tuple[str, str, int, int, str, str, str]] = []
    for product in products.iter_rows(named=True):
        candidates = product_candidates(product_values(product, attribute_types or {}), synonyms)
        for field in fields:
            text = product.get(field)
            if not isinstance(text, str) or not candidates:
                continue
            for m in label_text(text, candidates):
                rows.append(
                    (product[L.PRODUCT_ID], field, m.start, m.end, m.type, text[m.start : m.end], m.canonical)
                )
    return pl.DataFrame(rows, schema=SPAN_SCHEMA, orient="row")
