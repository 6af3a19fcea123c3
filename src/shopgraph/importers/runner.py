"""Run one import: load the mapping, parse the source with the format's importer, write the landing files."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from shopgraph.importers.amazon_reviews import AmazonReviewsMapping, import_amazon_reviews
from shopgraph.importers.catalog_csv import CatalogCsvMapping, import_catalog_csv
from shopgraph.importers.common import ImportResult, check_namespace, namespace_from_name
from shopgraph.importers.kgat import KgatMapping, import_kgat
from shopgraph.importers.mapping import load_mapping
from shopgraph.importers.recbole import RecboleMapping, import_recbole
from shopgraph.importers.relevance_csv import RelevanceCsvMapping, import_relevance_csv
from shopgraph.importers.report import ImportFormatError
from shopgraph.importers.writer import WrittenImport, write_import

MAPPINGS: dict[str, type[BaseModel]] = {
    "relevance-csv": RelevanceCsvMapping,
    "recbole": RecboleMapping,
    "kgat": KgatMapping,
    "amazon-reviews": AmazonReviewsMapping,
    "catalog-csv": CatalogCsvMapping,
}
FORMATS: tuple[str, ...] = tuple(MAPPINGS)


def stem_namespace(path: str) -> str:
    """A namespace from a file name without its extensions (AMAZON_FASHION_5.json.gz -> amazon_fashion_5)."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    return namespace_from_name(name.split(".", 1)[0])


def parse_source(
    format_name: str,
    path: str,
    mapping_path: str | None = None,
    day: date | None = None,
    namespace: str | None = None,
    metadata_path: str | None = None,
) -> ImportResult:
    """Parse a source in the given format into landing frames and a report, without writing anything."""
    if format_name not in MAPPINGS:
        raise ImportFormatError(
            path, "known format", f"unknown format {format_name!r}; choose from {', '.join(FORMATS)}"
        )
    if metadata_path is not None and format_name != "amazon-reviews":
        raise ImportFormatError(metadata_path, "metadata file", "--metadata is only read by amazon-reviews")
    mapping = load_mapping(mapping_path, MAPPINGS[format_name], format_name)
    chosen = namespace or getattr(mapping, "namespace", None)
    if chosen is not None:
        try:
            check_namespace(chosen)
        except ValueError as exc:
            raise ImportFormatError(mapping_path or "--namespace", "namespace", str(exc)) from exc
    if isinstance(mapping, RelevanceCsvMapping):
        return import_relevance_csv(path, mapping, chosen or stem_namespace(path), day)
    if isinstance(mapping, CatalogCsvMapping):
        return import_catalog_csv(path, mapping, chosen or stem_namespace(path), day)
    if isinstance(mapping, AmazonReviewsMapping):
        return import_amazon_reviews(path, mapping, chosen or stem_namespace(path), day, metadata_path)
    if isinstance(mapping, RecboleMapping):
        return import_recbole(path, mapping, chosen, day)
    assert isinstance(mapping, KgatMapping)
    return import_kgat(path, mapping, chosen, day)


def run_import(
    format_name: str,
    path: str,
    lake: str,
    mapping_path: str | None = None,
    day: date | None = None,
    namespace: str | None = None,
    metadata_path: str | None = None,
) -> tuple[ImportResult, WrittenImport]:
    """Parse a source and write its landing tables into the lake; returns the result and what was written."""
    result = parse_source(format_name, path, mapping_path, day, namespace, metadata_path)
    return result, write_import(lake, result)
