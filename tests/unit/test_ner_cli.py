"""The NER commands: help, a clear error without curated products, and the synonyms file check."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopgraph.cli import app
from shopgraph.ner.io import NerInputError, read_curated_products, read_synonyms

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("command", ["train-ner", "extract-entities"])
def test_help(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "Usage" in result.output


def test_train_without_curated_products_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(
        NerInputError, match=r"no curated products in .*curated/products/current: run the ingest"
    ):
        read_curated_products(str(tmp_path))


def test_committed_synonyms_load() -> None:
    synonyms = read_synonyms("conf/ner/synonyms.yaml")
    assert set(synonyms) == {"brand", "colour", "material", "style", "size", "category"} - {"brand"}
    assert "off-white" in synonyms["colour"]["white"]


def test_bad_synonyms_name_the_file_and_entry(tmp_path: Path) -> None:
    bad = tmp_path / "synonyms.yaml"
    bad.write_text("colour:\n  grey: gray\n")
    with pytest.raises(NerInputError, match=r"synonyms.yaml: colour.grey must be a list"):
        read_synonyms(str(bad))
