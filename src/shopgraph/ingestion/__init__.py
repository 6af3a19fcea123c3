"""Validated ingestion on the lake: landing partitions to curated/, quarantine/ and manifests/ingest/."""
