"""The `enrich` flow: embed changed product and query texts, then tag both with the NER champion."""

from __future__ import annotations

from typing import Any

from prefect import flow
from pydantic import BaseModel, Field

from tasks.embed import embed_products, embed_queries
from tasks.ner import extract_entities


class EnrichParams(BaseModel):
    """What to enrich; empty values come from the settings."""

    lake_root: str | None = Field(default=None, description="Lake root; empty: from settings")
    model: str | None = Field(default=None, description="Embedding model id or path; empty: from settings")
    batch_size: int | None = Field(default=None, gt=0, description="Texts per embedding batch")
    ner_model: str | None = Field(default=None, description="NER model URI or folder; empty: the champion")
    with_queries: bool = Field(default=True, description="Also embed and tag the search queries")


@flow(name="enrich", log_prints=True)
def enrich(params: EnrichParams = EnrichParams()) -> dict[str, Any]:
    """Embed new or changed curated products and search queries (unchanged ones reuse stored vectors), then
    extract entities with the champion NER model and merge them with the catalog attributes for the graph."""
    embeddings = embed_products(params.lake_root, params.model, params.batch_size)
    result: dict[str, Any] = {"embeddings": embeddings}
    if params.with_queries:
        result["query_embeddings"] = embed_queries(params.lake_root, params.model, params.batch_size)
    result["entities"] = extract_entities(params.lake_root, params.ner_model, params.with_queries)
    return result
