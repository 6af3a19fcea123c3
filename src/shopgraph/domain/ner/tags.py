"""BIO tags per word from character spans, label alignment to sub-tokens, and spans back from tags."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from shopgraph.domain.ner.text import Word

OUTSIDE = "O"
IGNORE_INDEX = -100  # positions the loss and the metrics skip: special tokens and non-first sub-tokens


class WordSpan(NamedTuple):
    """An entity over words [first, last) of a text."""

    first: int
    last: int
    type: str


def label_names(entity_types: Iterable[str]) -> list[str]:
    """The tag vocabulary: 'O' then B-/I- for each type in sorted order."""
    names = [OUTSIDE]
    for entity_type in sorted(set(entity_types)):
        names += [f"B-{entity_type}", f"I-{entity_type}"]
    return names


def word_tags(words: Sequence[Word], spans: Iterable[tuple[int, int, str]]) -> list[str]:
    """BIO tags of the words from (start, end, type) character spans; a word is inside when fully covered.

    Spans must not overlap (resolve them first); a span covering no whole word tags nothing.
    """
    tags = [OUTSIDE] * len(words)
    for start, end, entity_type in spans:
        inside = [i for i, w in enumerate(words) if w.start >= start and w.end <= end]
        for position, index in enumerate(inside):
            tags[index] = f"{'B' if position == 0 else 'I'}-{entity_type}"
    return tags


def align_labels(word_ids: Sequence[int | None], word_label_ids: Sequence[int]) -> list[int]:
    """One label per sub-token: the word's label on its first sub-token, IGNORE_INDEX elsewhere.

    word_ids is the tokenizer's sub-token -> word index map (None for special tokens).
    """
    labels: list[int] = []
    previous: int | None = None
    for word_id in word_ids:
        if word_id is None or word_id == previous:
            labels.append(IGNORE_INDEX)
        else:
            labels.append(word_label_ids[word_id])
        previous = word_id
    return labels


def first_subtoken_positions(word_ids: Sequence[int | None]) -> dict[int, int]:
    """word index -> position of its first sub-token (words cut off by truncation are absent)."""
    positions: dict[int, int] = {}
    for position, word_id in enumerate(word_ids):
        if word_id is not None and word_id not in positions:
            positions[word_id] = position
    return positions


def tag_spans(tags: Sequence[str]) -> list[WordSpan]:
    """Entities from BIO tags, seqeval-style: an I- after O or after another type starts a new entity."""
    spans: list[WordSpan] = []
    first, current = -1, ""
    for index, tag in enumerate([*tags, OUTSIDE]):
        prefix, _, entity_type = tag.partition("-")
        continues = prefix == "I" and entity_type == current
        if current and not continues:
            spans.append(WordSpan(first, index, current))
            current = ""
        if prefix in ("B", "I") and not continues:
            first, current = index, entity_type
    return spans


def char_spans(words: Sequence[Word], spans: Iterable[WordSpan]) -> list[tuple[int, int, str]]:
    """Word spans as (start, end, type) character spans of the text the words came from."""
    return [(words[s.first].start, words[s.last - 1].end, s.type) for s in spans]
