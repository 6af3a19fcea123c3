"""Entity-level precision, recall and F1 (exact span and type match, seqeval-style) and a confusion table."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from shopgraph.schemas import truth as T

MICRO = "micro"
NONE = "none"
TP, FP, FN = "tp", "fp", "fn"
PRECISION, RECALL, F1, SUPPORT = "precision", "recall", "f1", "support"
GOLD_TYPE, PRED_TYPE, COUNT = "gold_type", "pred_type", "count"
SPAN_KEYS: tuple[str, ...] = ("product_id", T.FIELD, T.START, T.END)
SCORES_SCHEMA = pl.Schema(
    {
        T.ENTITY_TYPE: pl.String(),
        TP: pl.Int64(),
        FP: pl.Int64(),
        FN: pl.Int64(),
        PRECISION: pl.Float64(),
        RECALL: pl.Float64(),
        F1: pl.Float64(),
        SUPPORT: pl.Int64(),
    }
)


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(0.0)


def entity_scores(
    gold: pl.DataFrame,
    pred: pl.DataFrame,
    keys: Sequence[str] = SPAN_KEYS,
    col_type: str = T.ENTITY_TYPE,
) -> pl.DataFrame:
    """Per-type and micro P/R/F1 (SCORES_SCHEMA): a prediction counts only with the same keys and type.

    Reads the key columns (default product_id, field, start, end) and col_type of both frames; duplicate
    rows count once. The last row is `micro` over all types. A type with no gold and no predicted span
    is absent; 0/0 ratios are 0.
    """
    columns = [*keys, col_type]
    gold_set = gold.select(columns).unique()
    pred_set = pred.select(columns).unique()
    hits = gold_set.join(pred_set, on=columns, how="inner", nulls_equal=True)
    counts = (
        pl.concat(
            [
                gold_set.group_by(col_type).agg(pl.len().alias(SUPPORT)),
                pred_set.group_by(col_type).agg(pl.len().alias("predicted")),
                hits.group_by(col_type).agg(pl.len().alias(TP)),
            ],
            how="diagonal",
        )
        .group_by(col_type)
        .agg(pl.col(SUPPORT, "predicted", TP).sum())
        .sort(col_type)
    )
    total = counts.select(pl.lit(MICRO).alias(col_type), pl.col(SUPPORT, "predicted", TP).sum())
    both = pl.concat([counts, total]).with_columns(pl.col(SUPPORT, "predicted", TP).cast(pl.Int64))
    scored = both.with_columns(
        (pl.col("predicted") - pl.col(TP)).alias(FP),
        (pl.col(SUPPORT) - pl.col(TP)).alias(FN),
        _ratio(pl.col(TP), pl.col("predicted")).alias(PRECISION),
        _ratio(pl.col(TP), pl.col(SUPPORT)).alias(RECALL),
    ).with_columns(
        _ratio(2 * pl.col(PRECISION) * pl.col(RECALL), pl.col(PRECISION) + pl.col(RECALL)).alias(F1)
    )
    return scored.select(col_type, TP, FP, FN, PRECISION, RECALL, F1, SUPPORT).rename(
        {col_type: T.ENTITY_TYPE}
    )


def micro_f1(scores: pl.DataFrame) -> float:
    """The micro F1 of an entity_scores frame."""
    row = scores.filter(pl.col(T.ENTITY_TYPE) == MICRO)
    return float(row[F1].item()) if row.height else 0.0


def span_confusion(
    gold: pl.DataFrame,
    pred: pl.DataFrame,
    keys: Sequence[str] = SPAN_KEYS,
    col_type: str = T.ENTITY_TYPE,
) -> pl.DataFrame:
    """Counts of (gold_type, pred_type) over spans with the same keys; `none` for a missed or spurious span.

    Reads the key columns and col_type of both frames; writes gold_type, pred_type, count.
    """
    gold_set = gold.select([*keys, pl.col(col_type).alias(GOLD_TYPE)]).unique()
    pred_set = pred.select([*keys, pl.col(col_type).alias(PRED_TYPE)]).unique()
    paired = gold_set.join(pred_set, on=list(keys), how="full", coalesce=True, nulls_equal=True)
    return (
        paired.with_columns(pl.col(GOLD_TYPE, PRED_TYPE).fill_null(NONE))
        .group_by(GOLD_TYPE, PRED_TYPE)
        .agg(pl.len().cast(pl.Int64).alias(COUNT))
        .sort(GOLD_TYPE, PRED_TYPE)
    )
