"""Recommender training, tracking, scoring and batch recommendation (the I/O side of domain.recsys)."""
