"""Importers that turn real-world data formats into landing-zone tables (see docs/importers.md)."""
