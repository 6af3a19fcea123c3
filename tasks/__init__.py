"""Prefect tasks: thin wrappers around library calls."""
