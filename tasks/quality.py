"""Tasks of the quality flow: mine review quality into the graph, publish the defect evaluation."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact

from shopgraph.quality import run_quality
from shopgraph.settings import LakeSettings, load_settings
from tasks.limits import NEO4J_WRITER
from tasks.retry import IO_RETRIES


@task(name="mine-review-quality", tags=[NEO4J_WRITER], **IO_RETRIES)
def mine_review_quality(lake_root: str | None = None, write: bool = True) -> dict[str, Any]:
    """Quality scores and complaint issues from curated reviews, written to Neo4j (see shopgraph.quality)."""
    settings = load_settings()
    if lake_root:
        settings = settings.model_copy(update={"lake": LakeSettings(root=lake_root)})
    return run_quality(settings, write=write)


@task(name="publish-quality-report", **IO_RETRIES)
def publish_quality_report(report: dict[str, Any]) -> str:
    """A table artifact: issues per theme and, on a generated shop, precision and recall of flagged ones."""
    rows: list[dict[str, Any]] = [
        {"measure": f"issues: {theme}", "value": count} for theme, count in report["issues_by_theme"].items()
    ]
    rows.append({"measure": "products with an issue", "value": report["products_with_issue"]})
    for population, metrics in report.get("defects", {}).items():
        for name in ("precision", "recall"):
            rows.append({"measure": f"defective {name} ({population})", "value": round(metrics[name], 4)})
    artifact_id = create_table_artifact(
        key="review-quality", table=rows, description=f"Review-mined quality of {report['products']} products"
    )
    return str(artifact_id)
