"""The app built from settings at import, for uvicorn's multi-worker mode (each worker imports it)."""

from shopgraph.serving.app import create_app
from shopgraph.settings import load_settings

app = create_app(load_settings())
