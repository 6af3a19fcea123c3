"""The serving API: search, precomputed recommendations, similar products, health."""
