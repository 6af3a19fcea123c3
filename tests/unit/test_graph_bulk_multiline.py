"""neo4j-admin import parses multiline fields only when a written field spans lines."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from shopgraph.adapters.graph_bulk import (
    GraphState,
    _empty_products,
    _empty_users,
    has_line_breaks,
    import_command,
    write_import_files,
)
from shopgraph.adapters.graph_loader import LoadOptions
from shopgraph.settings import load_settings


def test_line_breaks_are_found_in_any_string_column() -> None:
    plain = pl.DataFrame({"id": ["a", "b"], "n": [1, 2], "title": ["x", None]})
    assert not has_line_breaks(plain)
    assert has_line_breaks(plain.with_columns(pl.Series("title", ["x", "two\nlines"])))
    assert has_line_breaks(plain.with_columns(pl.Series("id", ["a\r", "b"])))
    assert not has_line_breaks(pl.DataFrame({"n": [1]}))
    assert not has_line_breaks(pl.DataFrame({"title": []}, schema={"title": pl.String}))


def _import_flag(tmp_path: Path, brand: str) -> str:
    state = GraphState(products=_empty_products(), users=_empty_users(), brands={brand, "Plain"})
    files = write_import_files(state, LoadOptions(), tmp_path)
    argv = import_command("java", load_settings(home=str(tmp_path)), files, tmp_path / "report")
    return next(arg for arg in argv if arg.startswith("--multiline-fields="))


def test_the_import_parses_multiline_fields_only_when_a_field_spans_lines(tmp_path: Path) -> None:
    assert _import_flag(tmp_path, "Acme") == "--multiline-fields=false"
    assert _import_flag(tmp_path, "Two\nLines") == "--multiline-fields=true"
