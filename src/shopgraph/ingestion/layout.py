"""Where ingestion writes in the lake: curated, quarantine and manifest paths (a contract; see docs)."""

from __future__ import annotations

from datetime import date

from shopgraph.adapters.lake import lake_path
from shopgraph.domain.dates import partition_name
from shopgraph.schemas import landing as L
from shopgraph.schemas.lake_layout import CHANGES, CURATED, CURRENT, QUARANTINE

MANIFESTS = "manifests/ingest"
CORRUPT_FILES = "files"
CORRUPT_SUFFIX = ".corrupt"


def curated_partition(root: str, table: str, day: date) -> str:
    """curated/<table>/changes/dt=D for change sets (products, users), curated/<table>/dt=D otherwise."""
    if table in L.CHANGE_SET_TABLES:
        return lake_path(root, CURATED, table, CHANGES, partition_name(day))
    return lake_path(root, CURATED, table, partition_name(day))


def curated_changes(root: str, table: str) -> str:
    """curated/<table>/changes: the folder of a change-set table's accepted change partitions."""
    return lake_path(root, CURATED, table, CHANGES)


def curated_current(root: str, table: str) -> str:
    """curated/<table>/current: the current state of a change-set table."""
    return lake_path(root, CURATED, table, CURRENT)


def quarantine_partition(root: str, table: str, day: date) -> str:
    """quarantine/<table>/dt=D."""
    return lake_path(root, QUARANTINE, table, partition_name(day))


def manifest_path(root: str, table: str, day: date) -> str:
    """manifests/ingest/<table>/dt=D.json."""
    return lake_path(root, MANIFESTS, table, f"{partition_name(day)}.json")
