"""Load a mapping YAML file into a format's typed mapping model, with errors naming the file and field."""

from __future__ import annotations

from typing import TypeVar

import fsspec
import yaml
from pydantic import BaseModel, ValidationError

from shopgraph.importers.report import ImportFormatError

MappingT = TypeVar("MappingT", bound=BaseModel)


def load_mapping(path: str | None, model: type[MappingT], format_name: str) -> MappingT:
    """The mapping in path validated as model (defaults when path is None); fails on unknown keys."""
    if path is None:
        try:
            return model()
        except ValidationError as exc:
            raise ImportFormatError(
                "--mapping",
                "mapping required",
                f"format {format_name} needs a mapping file ({exc.errors()[0]['loc']})",
            ) from exc
    with fsspec.open(path, "rt", encoding="utf-8") as handle:
        try:
            raw = yaml.safe_load(handle) or {}
        except yaml.YAMLError as exc:
            raise ImportFormatError(path, "YAML mapping", str(exc)) from exc
    if not isinstance(raw, dict):
        raise ImportFormatError(path, "YAML mapping", "the file must hold a mapping of keys to values")
    declared = raw.get("format")
    if declared is not None and declared != format_name:
        raise ImportFormatError(path, "mapping format", f"the file is for {declared!r}, not {format_name!r}")
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ImportFormatError(path, "mapping fields", problems) from exc
