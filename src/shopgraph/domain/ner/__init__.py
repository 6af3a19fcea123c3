"""Product NER rules as pure functions: weak labels, BIO tags, alignment, splits, metrics and merging."""
