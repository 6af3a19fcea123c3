"""Adapters: everything that touches the outside world (lake storage, graph store, tracking, models)."""
