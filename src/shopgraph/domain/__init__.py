"""Domain logic: pure functions on polars frames and numpy arrays, no I/O."""
