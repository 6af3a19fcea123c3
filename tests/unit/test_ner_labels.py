"""Weak labelling: word splitting, normalisation, synonym matching, overlaps and the span frame."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from shopgraph.domain.ner.labels import (
    SPAN_SCHEMA,
    Match,
    label_text,
    product_candidates,
    product_values,
    resolve_overlaps,
    weak_label_spans,
)
from shopgraph.domain.ner.text import normalise_value, singular, split_words, word_key

pytestmark = pytest.mark.unit

SYNONYMS = {
    "colour": {"white": ["off-white"], "grey": ["gray"]},
    "category": {"Dresses": ["wrap dress", "midi dress"]},
    "size": {"EU 42": ["42"], "M": ["medium"]},
}


def spans_of(text: str, values: dict[str, list[str]]) -> list[tuple[str, str, str]]:
    return [
        (text[m.start : m.end], m.type, m.canonical)
        for m in label_text(text, product_candidates(values, SYNONYMS))
    ]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("15.6-inch laptop", ["15.6", "-", "inch", "laptop"]),
        ("Cream, 50 ml", ["Cream", ",", "50", "ml"]),
        ("cream 50ml", ["cream", "50", "ml"]),
        ("Boots EU 42", ["Boots", "EU", "42"]),
        ("EU42", ["EU", "42"]),
        ("Maison Lumière dress", ["Maison", "Lumière", "dress"]),
        ("100% cotton – Basix", ["100", "%", "cotton", "–", "Basix"]),
    ],
)
def test_split_words_on_tricky_text(text: str, words: list[str]) -> None:
    found = split_words(text)
    assert [w.text for w in found] == words
    assert all(text[w.start : w.end] == w.text for w in found)


@pytest.mark.parametrize(
    ("word", "key"),
    [
        ("Lumière", "lumiere"),
        ("DRESSES", "dress"),
        ("Jeans", "jean"),
        ("&", "and"),
        ("-", ""),
        ("S", "s"),
        ("glass", "glass"),
        ("berries", "berry"),
        ("42", "42"),
    ],
)
def test_word_key(word: str, key: str) -> None:
    assert word_key(word) == key


def test_singular_leaves_short_words() -> None:
    assert singular("bus") == "bus"
    assert normalise_value("Off-White") == normalise_value("off white") == "off white"


def test_case_accents_hyphens_and_plurals_match() -> None:
    text = "MAISON LUMIERE Off White Dresses"
    assert spans_of(
        text, {"brand": ["Maison Lumière"], "colour": ["white"], "category": ["Clothing > Women > Dresses"]}
    ) == [
        ("MAISON LUMIERE", "brand", "Maison Lumière"),
        ("Off White", "colour", "white"),
        ("Dresses", "category", "Clothing > Women > Dresses"),
    ]


def test_synonym_longest_span_wins() -> None:
    text = "A wrap dress in gray"
    assert spans_of(text, {"colour": ["grey"], "category": ["Clothing > Women > Dresses"]}) == [
        ("wrap dress", "category", "Clothing > Women > Dresses"),
        ("gray", "colour", "grey"),
    ]


def test_numbers_with_units_and_sizes() -> None:
    assert spans_of("Cream 50ml", {"size": ["50 ml"]}) == [("50ml", "size", "50 ml")]
    assert spans_of("Laptop 15.6 inch", {"size": ["15.6-inch"]}) == [("15.6 inch", "size", "15.6-inch")]
    assert spans_of("Boots, EU42", {"size": ["EU 42"]}) == [("EU42", "size", "EU 42")]
    assert spans_of("Boots size 42.", {"size": ["EU 42"]}) == [("42", "size", "EU 42")]


def test_short_sizes_need_their_case() -> None:
    assert spans_of("It's a tee, size M", {"size": ["M"]}) == [("M", "size", "M")]
    assert spans_of("it's 5 m long", {"size": ["M", "S"]}) == []
    assert spans_of("Medium tee", {"size": ["M"]}) == [("Medium", "size", "M")]


def test_words_only_never_inside_a_word() -> None:
    assert spans_of("Tangerine scarf", {"colour": ["tan"]}) == []


def test_resolve_overlaps_longest_then_earliest() -> None:
    matches = [
        Match(0, 5, "colour", "a"),
        Match(0, 10, "material", "b"),
        Match(8, 14, "style", "c"),
        Match(11, 14, "size", "d"),
        Match(20, 23, "brand", "e"),
        Match(20, 23, "brand", "e"),
    ]
    assert resolve_overlaps(matches) == [
        Match(0, 10, "material", "b"),
        Match(11, 14, "size", "d"),
        Match(20, 23, "brand", "e"),
    ]


def test_product_values_with_configured_attribute_types() -> None:
    row = {
        "brand": "Kaia",
        "colour": None,
        "style": " ",
        "category_path": "Clothing > Women > Tops",
        "attributes": [{"key": "pattern", "value": "striped"}, {"key": "fit", "value": "slim"}],
    }
    assert product_values(row, {"pattern": "pattern"}) == {
        "brand": ["Kaia"],
        "category": ["Clothing > Women > Tops"],
        "pattern": ["striped"],
    }


def test_weak_label_spans_frame() -> None:
    products = pl.DataFrame(
        {
            "product_id": ["P1", "P2"],
            "title": ["Kaia striped top, off-white", "Basix tee"],
            "description": [None, "A striped tee. Colour: white."],
            "brand": ["Kaia", None],
            "category_path": ["Clothing > Women > Tops", "Clothing > Kids > T-Shirts"],
            "colour": ["white", None],
            "material": [None, None],
            "size": [None, None],
            "style": [None, None],
            "attributes": [[{"key": "pattern", "value": "striped"}], [{"key": "fit", "value": "regular"}]],
        }
    )
    synonyms = {"colour": {"white": ["off-white"]}, "category": {"T-Shirts": ["tee"]}}
    expected = pl.DataFrame(
        [
            ("P1", "title", 0, 4, "brand", "Kaia", "Kaia"),
            ("P1", "title", 5, 12, "pattern", "striped", "striped"),
            ("P1", "title", 13, 16, "category", "top", "Clothing > Women > Tops"),
            ("P1", "title", 18, 27, "colour", "off-white", "white"),
            ("P2", "title", 6, 9, "category", "tee", "Clothing > Kids > T-Shirts"),
            ("P2", "description", 10, 13, "category", "tee", "Clothing > Kids > T-Shirts"),
        ],
        schema=SPAN_SCHEMA,
        orient="row",
    )
    assert_frame_equal(weak_label_spans(products, synonyms, {"pattern": "pattern"}), expected)


def test_weak_label_spans_of_nothing() -> None:
    empty = pl.DataFrame(schema={"product_id": pl.String, "title": pl.String, "description": pl.String})
    assert weak_label_spans(empty, SYNONYMS).schema == SPAN_SCHEMA
