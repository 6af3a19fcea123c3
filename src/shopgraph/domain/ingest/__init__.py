"""Ingestion rules as pure polars functions: casting, text normalisation, checks, dedup, current state."""
