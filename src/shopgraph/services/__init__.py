"""Local service stack: Neo4j, Prefect server and worker, MLflow tracking server."""
