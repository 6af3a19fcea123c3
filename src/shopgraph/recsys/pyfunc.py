"""The MLflow pyfunc form of a trained recommender: user ids in, ranked product ids out."""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.models import infer_signature
from mlflow.pyfunc import PythonModel

from shopgraph.recsys.scorer import FactorScorer

FACTORS = "factors"
DEFAULT_K = 20
SCORING_PACKAGES = ("mlflow", "numpy", "pandas", "polars", "torch")


class RecommenderModel(PythonModel):  # type: ignore[misc]
    """predict(DataFrame with user_id, params={"k": K}) -> user_id, product_id, rank, score."""

    def load_context(self, context: Any) -> None:
        self.scorer = FactorScorer.load(Path(context.artifacts[FACTORS]))

    def predict(
        self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None
    ) -> pd.DataFrame:
        k = int((params or {}).get("k", DEFAULT_K))
        users = model_input["user_id"].astype(str).tolist()
        return self.scorer.recommend(users, k).to_pandas()


def save_pyfunc(scorer: FactorScorer, folder: Path, work: Path) -> Path:
    """Write the scorer as an MLflow pyfunc model folder with a signature and an input example."""
    factors = scorer.save(work / "factors")
    example = pd.DataFrame({"user_id": [str(scorer.user_ids[0])]})
    output = scorer.recommend(example["user_id"].tolist(), 3).to_pandas()
    signature = infer_signature(example, output, params={"k": DEFAULT_K})
    mlflow.pyfunc.save_model(
        str(folder),
        python_model=RecommenderModel(),
        artifacts={FACTORS: str(factors)},
        signature=signature,
        input_example=example,
        # Explicit: scoring needs only these, and inferring them would export the whole project lock.
        pip_requirements=[f"{name}=={version(name)}" for name in SCORING_PACKAGES],
    )
    return folder
