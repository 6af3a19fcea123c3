"""Template rendering that records where each entity lands: '[{brand} ]{category}[ in {colour}]' style."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

_TOKEN = re.compile(r"\[([^\[\]]*)\]|\{(\w+)\}")
_SLOT = re.compile(r"\{(\w+)\}")


class Slot(NamedTuple):
    """A value for a template: the text as written, its entity type ('' for none), its canonical value."""

    surface: str
    type: str = ""
    canonical: str = ""


class Span(NamedTuple):
    """An entity in a text: character offsets [start, end), type, the text there, its canonical value."""

    start: int
    end: int
    type: str
    value: str
    canonical: str


# A parsed piece: (prefix, slot name or '', suffix, optional).
Piece = tuple[str, str, str, bool]


@lru_cache(maxsize=512)
def parse_template(template: str) -> tuple[Piece, ...]:
    """Split a template into literal text, required {slots} and optional [groups] of one slot each."""
    pieces: list[Piece] = []
    position = 0
    for match in _TOKEN.finditer(template):
        if match.start() > position:
            pieces.append((template[position : match.start()], "", "", False))
        group, slot = match.group(1), match.group(2)
        if slot is not None:
            pieces.append(("", slot, "", False))
        else:
            inner = _SLOT.search(group)
            if inner is None:
                raise ValueError(f"optional group without a slot in template {template!r}")
            pieces.append((group[: inner.start()], inner.group(1), group[inner.end() :], True))
        position = match.end()
    if position < len(template):
        pieces.append((template[position:], "", "", False))
    return tuple(pieces)


def render(template: str, slots: Mapping[str, Slot | None]) -> tuple[str, list[Span]] | None:
    """The template filled from slots with the spans of typed slots; None when a required slot is missing."""
    parts: list[str] = []
    spans: list[Span] = []
    length = 0
    for prefix, name, suffix, optional in parse_template(template):
        if not name:
            parts.append(prefix)
            length += len(prefix)
            continue
        value = slots.get(name)
        if value is None:
            if optional:
                continue
            return None
        parts.append(prefix)
        length += len(prefix)
        if value.type:
            spans.append(
                Span(length, length + len(value.surface), value.type, value.surface, value.canonical)
            )
        parts.append(value.surface)
        length += len(value.surface)
        parts.append(suffix)
        length += len(suffix)
    return "".join(parts), spans


def capitalise_first(text: str, spans: list[Span]) -> tuple[str, list[Span]]:
    """Upper-case the first character, keeping a span that starts there in step."""
    if not text or not text[0].islower() or len(text[0].upper()) != 1:
        return text, spans
    text = text[0].upper() + text[1:]
    return text, [
        Span(s.start, s.end, s.type, text[s.start : s.end], s.canonical) if s.start == 0 else s for s in spans
    ]


def join_sentences(
    sentences: Sequence[tuple[str, list[Span]]], separator: str = " "
) -> tuple[str, list[Span]]:
    """Sentences joined into one text with their spans shifted to the joined offsets."""
    parts: list[str] = []
    spans: list[Span] = []
    offset = 0
    for index, (sentence, sentence_spans) in enumerate(sentences):
        if index:
            parts.append(separator)
            offset += len(separator)
        parts.append(sentence)
        spans.extend(
            Span(s.start + offset, s.end + offset, s.type, s.value, s.canonical) for s in sentence_spans
        )
        offset += len(sentence)
    return "".join(parts), spans


def title_words(text: str) -> str:
    """Capitalise each space-separated word without changing the text's length."""
    return " ".join(w[:1].upper() + w[1:] if len(w[:1].upper()) == 1 else w for w in text.split(" "))
