"""Product NER: training tracked in the MLflow registry, and batched extraction over products and queries."""
