"""Search query checks and Lucene escaping: what a user may type and how it reaches the fulltext index."""

from __future__ import annotations

import re
import unicodedata

from shopgraph.errors import ShopgraphError

# Lucene query syntax characters (and the two-character operators && and ||, covered by & and |).
LUCENE_SPECIAL = frozenset('+-!(){}[]^"~*?:\\/&|')
# Words Lucene's classic parser reads as operators when written in upper case.
LUCENE_OPERATORS = frozenset({"AND", "OR", "NOT", "TO"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class QueryError(ShopgraphError, ValueError):
    """A search query that cannot be run: empty once cleaned, or longer than the configured limit."""


def clean_query(query: str, max_chars: int) -> str:
    """The query with control characters removed, Unicode normalised (NFKC) and whitespace collapsed.

    Raises QueryError for a query that is empty after cleaning or longer than max_chars characters
    (a user error, reported as one line rather than truncated silently).
    """
    if not isinstance(query, str):
        raise QueryError(f"a search query must be text, got {type(query).__name__}")
    text = " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFKC", query)).split())
    if not text:
        raise QueryError("the search query is empty: type a few words, e.g. 'red linen dress'")
    if len(text) > max_chars:
        raise QueryError(
            f"the search query has {len(text)} characters, more than the limit of {max_chars} "
            "(setting search.max_query_chars)"
        )
    return text


def escape_lucene(text: str) -> str:
    """Text safe to pass to db.index.fulltext.queryNodes as plain words: every Lucene special character
    backslash-escaped and the upper-case operator words (AND, OR, NOT, TO) lower-cased."""
    escaped = "".join(f"\\{char}" if char in LUCENE_SPECIAL else char for char in text)
    return " ".join(word.lower() if word in LUCENE_OPERATORS else word for word in escaped.split())


def has_searchable_text(text: str) -> bool:
    """Whether the text holds at least one letter or digit (in any script)."""
    return any(char.isalnum() for char in text)
