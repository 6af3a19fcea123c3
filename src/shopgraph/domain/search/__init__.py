"""Search maths without I/O: query checks, rank fusion with boosts and reasons, ranking metrics."""
