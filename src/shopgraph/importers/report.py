"""The import report: rows dropped or values left unmapped, with file, row and rule, plus synthesis notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from shopgraph.errors import ShopgraphError

EXAMPLES_SHOWN = 3


class ImportFormatError(ShopgraphError, ValueError):
    """Input an importer cannot read at all; names the file, the row when known, and the broken rule."""

    def __init__(self, file: str, rule: str, detail: str, row: int | None = None) -> None:
        self.file = file
        self.rule = rule
        self.row = row
        where = file if row is None else f"{file}, row {row}"
        super().__init__(f"{where}: {rule}: {detail}")


@dataclass(frozen=True)
class Problem:
    """One source row (or value) the importer could not map; row counts the header line as row 1."""

    table: str
    rule: str
    file: str
    row: int | None
    detail: str
    dropped: bool


@dataclass
class ImportReport:
    """What an import wrote and everything it could not map; `notes` say which values it synthesised."""

    format: str
    namespace: str
    source: str
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)

    def drop(self, table: str, rule: str, file: str, row: int | None, detail: str) -> None:
        """Record a source row that produced no row in `table`."""
        self.problems.append(Problem(table, rule, file, row, detail, dropped=True))

    def partial(self, table: str, rule: str, file: str, row: int | None, detail: str) -> None:
        """Record a value left null or unmapped in a row that was still written to `table`."""
        self.problems.append(Problem(table, rule, file, row, detail, dropped=False))

    def note(self, text: str) -> None:
        """Record a value the importer synthesised or a column it did not map."""
        self.notes.append(text)

    def dropped(self, table: str) -> int:
        """Source rows that produced no row in `table`."""
        return sum(1 for problem in self.problems if problem.dropped and problem.table == table)

    def grouped(self) -> list[tuple[str, str, bool, list[Problem]]]:
        """Problems grouped by (table, rule, dropped) in first-seen order."""
        groups: dict[tuple[str, str, bool], list[Problem]] = {}
        for problem in self.problems:
            groups.setdefault((problem.table, problem.rule, problem.dropped), []).append(problem)
        return [(table, rule, dropped, items) for (table, rule, dropped), items in groups.items()]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready record with every problem (not only examples); no timings, so reruns match."""
        return {
            "format": self.format,
            "namespace": self.namespace,
            "source": self.source,
            "rows": dict(sorted(self.rows.items())),
            "files": dict(sorted(self.files.items())),
            "notes": self.notes,
            "problems": [
                {
                    "table": table,
                    "rule": rule,
                    "row_dropped": dropped,
                    "count": len(items),
                    "rows": [{"file": p.file, "row": p.row, "detail": p.detail} for p in items],
                }
                for table, rule, dropped, items in self.grouped()
            ],
        }
