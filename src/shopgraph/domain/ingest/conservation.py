"""Row conservation: every landing row ends up curated or quarantined, never both, never neither."""

from __future__ import annotations

from shopgraph.errors import ShopgraphError


class RowConservationError(ShopgraphError, RuntimeError):
    """Rows were lost or duplicated between landing and curated + quarantine."""


def check_row_conservation(rows_in: int, curated: int, quarantined: int, *, where: str) -> None:
    """Raise RowConservationError naming `where` unless rows_in == curated + quarantined."""
    if rows_in != curated + quarantined:
        raise RowConservationError(
            f"{where}: row conservation broken: {rows_in} rows in, {curated} curated + {quarantined} "
            f"quarantined = {curated + quarantined}"
        )
