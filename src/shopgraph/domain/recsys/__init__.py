"""Recommendation: datasets, splits, metrics, baselines and the knowledge-graph model (pure, no I/O)."""
