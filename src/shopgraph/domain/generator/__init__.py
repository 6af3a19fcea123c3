"""Deterministic synthetic shop: catalog, users, sessions, reviews, judged queries, change sets and faults."""
