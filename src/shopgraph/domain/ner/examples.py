"""Texts to tag: one example per product text field, its words and weak BIO tags."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import polars as pl

from shopgraph.domain.ner.labels import TEXT_FIELDS
from shopgraph.domain.ner.tags import OUTSIDE, word_tags
from shopgraph.domain.ner.text import Word, split_words
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T


class TextExample(NamedTuple):
    """One text: whose it is (key, field), the text, its words and one BIO tag per word."""

    key: str
    field: str
    text: str
    words: list[Word]
    tags: list[str]


def text_examples(
    products: pl.DataFrame,
    spans: pl.DataFrame | None = None,
    fields: Sequence[str] = TEXT_FIELDS,
    col_key: str = L.PRODUCT_ID,
) -> list[TextExample]:
    """One example per non-empty text field of each row, tagged from spans (all 'O' without spans).

    Reads col_key and the fields of products, and col_key, field, start, end, type of spans.
    """
    by_text: dict[tuple[str, str], list[tuple[int, int, str]]] = {}
    if spans is not None:
        for key, field, start, end, entity_type in spans.select(
            col_key, T.FIELD, T.START, T.END, T.ENTITY_TYPE
        ).iter_rows():
            by_text.setdefault((key, field), []).append((start, end, entity_type))
    examples: list[TextExample] = []
    for row in products.select(list(dict.fromkeys([col_key, *fields]))).iter_rows(named=True):
        for field in fields:
            text = row[field]
            if not isinstance(text, str) or not text.strip():
                continue
            words = split_words(text)
            found = by_text.get((row[col_key], field), [])
            tags = word_tags(words, found) if found else [OUTSIDE] * len(words)
            examples.append(TextExample(row[col_key], field, text, words, tags))
    return examples
