"""Pure parsers for text blobs in real catalogs: list strings, key/value specifications, prices, ages."""

from __future__ import annotations

import ast
import json
import re

MAX_LITERAL_CHARS = 200_000
CATEGORY_SEPARATOR = " > "
_RUBY_ARROW = re.compile(r'"\s*=>\s*')
_PRICE = re.compile(r"^\s*(?:[A-Z]{0,3}\s*[$€£₹]?|Rs\.?)\s*([0-9][0-9,]*(?:\.[0-9]+)?)\s*$")
AGE_BANDS: tuple[tuple[int, int, str], ...] = (
    (18, 24, "18-24"),
    (25, 34, "25-34"),
    (35, 44, "35-44"),
    (45, 54, "45-54"),
    (55, 64, "55-64"),
    (65, 200, "65+"),
)


class BlobError(ValueError):
    """A text blob that does not parse as the structure it should hold."""


def parse_literal(text: str) -> object:
    """A Python or JSON literal (lists, dicts, strings, numbers) parsed without evaluating any code.

    ast.literal_eval only builds literals: names, calls and operators are rejected. Ruby-style hashes
    (`{"key"=>"Color"}`, as in the original Flipkart export) are read as JSON after turning `=>` into `:`.
    """
    if len(text) > MAX_LITERAL_CHARS:
        raise BlobError(f"longer than {MAX_LITERAL_CHARS} characters")
    stripped = text.strip()
    try:
        return ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
        if "=>" not in stripped:
            raise BlobError(f"not a list or dict literal: {type(exc).__name__}") from exc
    try:
        return json.loads(_RUBY_ARROW.sub('":', stripped).replace("=>nil", ":null"))
    except json.JSONDecodeError as exc:
        raise BlobError(f"not a key=>value hash: {exc.msg}") from exc


def parse_category_list(text: str) -> list[str]:
    """Category levels from a list string such as "['footwear', 'womens footwear']"; an element holding
    `>>` (the original Flipkart tree: ["Clothing >> Women's Clothing"]) is split into its levels."""
    value = parse_literal(text)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list | tuple) or not all(isinstance(item, str) for item in value):
        raise BlobError("not a list of strings")
    levels: list[str] = []
    for item in value:
        levels.extend(part for part in split_levels(item, ">>") if part)
    return levels


def split_levels(text: str, separator: str) -> list[str]:
    """Levels of a category path written with a separator, whitespace collapsed, empty levels dropped."""
    return [" ".join(part.split()) for part in text.split(separator) if part.strip()]


def drop_product_leaf(levels: list[str], title: str) -> list[str]:
    """levels without a last level that names the product itself (it starts the title or vice versa)."""
    if not levels:
        return levels
    leaf = " ".join(levels[-1].lower().split())
    name = " ".join(title.lower().split())
    if leaf and (name.startswith(leaf) or leaf.startswith(name)):
        return levels[:-1]
    return levels


def category_path(levels: list[str]) -> str | None:
    """`Level > Level > Leaf`, or None when there are no levels."""
    return CATEGORY_SEPARATOR.join(levels) if levels else None


def parse_specifications(text: str) -> tuple[list[dict[str, str]], int]:
    """Key/value pairs from a specification blob, and how many entries had a value but no key.

    Accepts a list of {key, value} dicts, one such dict, or {"product_specification": <either>}.
    """
    value = parse_literal(text)
    if isinstance(value, dict) and len(value) == 1 and "product_specification" in value:
        value = value["product_specification"]
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list | tuple):
        raise BlobError("not a list of {key, value} entries")
    pairs: list[dict[str, str]] = []
    keyless = 0
    for entry in value:
        if not isinstance(entry, dict) or "value" not in entry:
            raise BlobError("an entry is not a {key, value} dict")
        key = entry.get("key")
        if key is None or not str(key).strip():
            keyless += 1
            continue
        pairs.append({"key": " ".join(str(key).split()), "value": " ".join(str(entry["value"]).split())})
    return pairs, keyless


def parse_price_text(text: str) -> float | None:
    """A single price such as `$12.99`, `₹1,299` or `24.99`; None for ranges, blanks or other text."""
    match = _PRICE.match(text)
    if match is None:
        return None
    return float(match.group(1).replace(",", ""))


def age_band(age: int | None) -> str | None:
    """The contract's age band for an age in years; None under 18 or when unknown."""
    if age is None:
        return None
    for low, high, band in AGE_BANDS:
        if low <= age <= high:
            return band
    return None
