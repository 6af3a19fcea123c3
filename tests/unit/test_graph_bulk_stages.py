"""neo4j-admin import output: the stage durations the bulk report keeps."""

from __future__ import annotations

from shopgraph.adapters.graph_bulk import import_stage_seconds

OUTPUT = """\
(1/4) Node import 2026-11-29 08:30:14.154+0000
  Estimated number of nodes: 4.36 k
Node import COMPLETED in 2s 355ms
(2/4) Relationship import 2026-11-29 08:30:16.510+0000
Relationship import COMPLETED in 1m 1s 929ms
Relationship linking COMPLETED in 811ms
Post processing COMPLETED in 1h 2m
IMPORT DONE in 12s 181ms.
"""


def test_every_completed_stage_is_read_in_seconds() -> None:
    assert import_stage_seconds(OUTPUT) == {
        "Node import": 2.355,
        "Relationship import": 61.929,
        "Relationship linking": 0.811,
        "Post processing": 3720.0,
    }


def test_output_without_stages_gives_none() -> None:
    assert import_stage_seconds("ERROR: Invalid input\nIMPORT FAILED in 1s") == {}
