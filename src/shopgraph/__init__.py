"""shopgraph: e-commerce knowledge graph for search and recommendations."""
