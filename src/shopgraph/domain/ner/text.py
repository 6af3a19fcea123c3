"""Words of a product text with their character offsets, and the normalised keys used to match them."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

# Numbers (with one decimal part), runs of letters (accents included), or single symbols. Digits and letters
# part ("50ml" -> "50" "ml", "EU42" -> "EU" "42") so a size matches however it is spaced.
_WORD = re.compile(r"\d+(?:\.\d+)?|(?:[^\W\d_]|[\u0300-\u036f])+|[^\w\s]|_")
# Hyphens joining words: "off-white" matches "off white". En and em dashes separate, so they are kept.
_JOINERS = frozenset({"-", "\u2010", "\u2011"})


class Word(NamedTuple):
    """A word of a text: [start, end) in code points and the text there."""

    start: int
    end: int
    text: str


def split_words(text: str) -> list[Word]:
    """The words of a text in order, as the NER model sees them (numbers, letter runs, single symbols)."""
    return [Word(m.start(), m.end(), m.group()) for m in _WORD.finditer(text)]


def strip_accents(text: str) -> str:
    """Text without diacritics: 'Lumière' -> 'Lumiere', 'Sjö' -> 'Sjo'."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def singular(word: str) -> str:
    """A crude English singular, applied to text and values alike: 'dresses' -> 'dress', 'jeans' -> 'jean'."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def word_key(word: str) -> str:
    """The key a word matches on: no accents, lower case, singular, '&' as 'and'; '' for a joining hyphen."""
    if word in _JOINERS:
        return ""
    key = strip_accents(word).lower()
    if key == "&":
        return "and"
    return singular(key)


def value_keys(value: str) -> tuple[str, ...]:
    """The non-empty word keys of an attribute value: 'Off-White' -> ('off', 'white')."""
    return tuple(key for key in (word_key(w.text) for w in split_words(value)) if key)


def normalise_value(value: str) -> str:
    """A comparable form of a value: its word keys joined by single spaces."""
    return " ".join(value_keys(value))
