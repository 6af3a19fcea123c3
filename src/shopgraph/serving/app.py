"""FastAPI app: /search, /recommend/{user_id}, /similar/{product_id}, /health; no Cypher built from input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import ExitStack, asynccontextmanager
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from shopgraph.adapters.explanations import sentence
from shopgraph.adapters.registry import alias_version, registry_client, tracking_store_problem
from shopgraph.domain.search.query import QueryError
from shopgraph.search import SearchError, open_search
from shopgraph.serving import queries
from shopgraph.serving.popular import PopularLists, popular_in_tastes
from shopgraph.settings import Settings

MAX_K = 100
ID_PATTERN = r"^[\w.:\-@/+ ]{1,200}$"  # ids as the lake holds them; anything else is a 422, not a query


class Recommendation(BaseModel):
    rank: int
    product_id: str
    title: str | None
    score: float | None
    why: list[str]


class RecommendResponse(BaseModel):
    user_id: str
    source: str  # "precomputed" (the champion's batch) or "popular" (fallback)
    model_version: str | None
    items: list[Recommendation]


class SimilarItem(BaseModel):
    rank: int
    product_id: str
    title: str | None
    score: float


class SimilarResponse(BaseModel):
    product_id: str
    items: list[SimilarItem]


def create_app(settings: Settings) -> FastAPI:
    """The API over the configured Neo4j (one driver, one search engine for the app's lifetime)."""
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            engine = stack.enter_context(open_search(settings))
            state["engine"] = engine
            state["driver"] = engine.driver
            popular = PopularLists(
                lambda: queries.popular_products(
                    engine.driver, settings.neo4j.database, settings.serve.popular_per_category
                ),
                settings.serve.popular_refresh_s,
            )
            popular.start()
            stack.callback(popular.stop)
            state["popular"] = popular
            yield

    app = FastAPI(
        title="shopgraph",
        description="Hybrid product search, explained recommendations and similar products.",
        lifespan=lifespan,
    )
    database = settings.neo4j.database

    @app.get("/health")
    def health() -> dict[str, Any]:
        """Neo4j reachable, and which recommender version is the champion."""
        state["driver"].verify_connectivity()
        champion = None
        tracking_uri = settings.mlflow.resolved_tracking_uri
        problem = tracking_store_problem(tracking_uri)  # a 2 s probe: health never waits on MLflow retries
        if problem is not None:
            champion = f"unavailable: {problem}"
        else:
            try:
                version = alias_version(
                    registry_client(tracking_uri), settings.recsys.registered_model, "champion"
                )
                champion = str(version.version) if version is not None else None
            except Exception as exc:  # noqa: BLE001 - health reports the registry as unavailable, never fails
                champion = f"unavailable: {type(exc).__name__}"
        return {"status": "ok", "neo4j": settings.neo4j.uri, "champion": champion}

    @app.get("/search")
    async def search(
        q: Annotated[str, Query(description="The query text", max_length=2000)],
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
        mode: Annotated[str, Query(pattern="^(hybrid|bm25|dense)$")] = "hybrid",
    ) -> dict[str, Any]:
        """Hybrid (or BM25 / dense) search; each result says why it matched."""
        try:
            response = await run_in_threadpool(state["engine"].search, q, k, mode)
        except (QueryError, SearchError) as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        return response.to_json()  # type: ignore[no-any-return]

    @app.get("/recommend/{user_id}", response_model=RecommendResponse)
    def recommend(
        user_id: Annotated[str, Path(pattern=ID_PATTERN)],
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
    ) -> RecommendResponse:
        """The champion's precomputed recommendations with explanations; for unknown users (or before the
        first batch) the most popular products in the categories the user touched (overall for a new
        user), from lists recomputed every serve.popular_refresh_s seconds."""
        rows = queries.recommended(state["driver"], database, user_id, k)
        if rows:
            return RecommendResponse(
                user_id=user_id,
                source="precomputed",
                model_version=rows[0]["model_version"],
                items=[
                    Recommendation(
                        rank=row["rank"],
                        product_id=row["product_id"],
                        title=row["title"],
                        score=row["score"],
                        why=[sentence(path) for path in row["explanations"]],
                    )
                    for row in rows
                ],
            )
        tastes = queries.user_categories(state["driver"], database, user_id)
        popular = popular_in_tastes(state["popular"].snapshot, tastes, k)
        why = "popular in categories you browsed" if tastes else "popular with shoppers"
        return RecommendResponse(
            user_id=user_id,
            source="popular",
            model_version=None,
            items=[
                Recommendation(rank=rank, product_id=p.product_id, title=p.title, score=None, why=[why])
                for rank, p in enumerate(popular, start=1)
            ],
        )

    @app.get("/similar/{product_id}", response_model=SimilarResponse)
    def similar(
        product_id: Annotated[str, Path(pattern=ID_PATTERN)],
        k: Annotated[int, Query(ge=1, le=MAX_K)] = 10,
    ) -> SimilarResponse:
        """Nearest products by text embedding (the SIMILAR_TO edges)."""
        rows = queries.similar(state["driver"], database, product_id, k)
        if rows is None:
            raise HTTPException(status_code=404, detail=f"unknown product_id {product_id!r}")
        return SimilarResponse(product_id=product_id, items=[SimilarItem(**row) for row in rows])

    return app
