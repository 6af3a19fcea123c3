"""Quality flow: review-mined product quality and complaint issues into the graph (run after `graph`)."""

from __future__ import annotations

from typing import Any

from prefect import flow
from pydantic import BaseModel, Field

from tasks.quality import mine_review_quality, publish_quality_report


class QualityParams(BaseModel):
    """Where to read reviews from and whether to write the graph."""

    lake_root: str | None = Field(default=None, description="Lake root; empty: from settings")
    write: bool = Field(default=True, description="Write quality_score and HAS_ISSUE edges to Neo4j")


@flow(name="quality", log_prints=True)
def quality(params: QualityParams = QualityParams()) -> dict[str, Any]:
    """Score each product from its reviews (Bayesian average towards the category mean), detect complaint
    themes in review sentences by embedding similarity, and write Product.quality_score and
    (:Product)-[:HAS_ISSUE {share}]->(:Issue) idempotently; publishes the defect evaluation when the lake
    holds the generator's truth."""
    report = mine_review_quality(params.lake_root, params.write)
    publish_quality_report(report)
    defects = report.get("defects", {}).get("reviewed")
    print(
        f"quality: {report['products']} products, {report['products_with_issue']} with an issue"
        + (
            f"; defective precision {defects['precision']:.3f} recall {defects['recall']:.3f}"
            if defects
            else ""
        )
    )
    return report
