"""Where each stage writes in the lake: the zone and folder names every later stage reads by."""

from __future__ import annotations

from shopgraph.schemas import landing as L

CURATED = "curated"
QUARANTINE = "quarantine"
ENRICHED = "enriched"
CHANGES = "changes"
CURRENT = "current"

# Folder parts under the lake root, for lake_path(root, *parts).
CURRENT_PRODUCTS = (CURATED, L.PRODUCTS, CURRENT)
PRODUCT_EMBEDDINGS = (ENRICHED, "product_embeddings")
QUERY_EMBEDDINGS = (ENRICHED, "query_embeddings")
PRODUCT_ENTITIES = (ENRICHED, "product_entities")
NER_TAGGED = (ENRICHED, "ner_tagged")  # product_id, text_hash, model_version of the last tagging
QUERY_ENTITIES = (ENRICHED, "query_entities")
QUERY_NER_TAGGED = (ENRICHED, "query_ner_tagged")  # query, model_version of the last tagging
PRODUCT_ATTRIBUTES = (ENRICHED, "product_attributes")
RECOMMENDATIONS = ("recommendations",)  # dt=YYYY-MM-DD/ per run day, and current/ (the latest set)
