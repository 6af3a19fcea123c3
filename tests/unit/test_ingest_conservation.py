"""Property: whatever the landing rows, each lands exactly once in curated or quarantine."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_frames import DAY, KNOWN, NOON, NOW, with_source

from shopgraph.domain.ingest import reasons as R
from shopgraph.domain.ingest.curate import curate_partition
from shopgraph.domain.ingest.tables import table_rules
from shopgraph.schemas import landing as L

pytestmark = pytest.mark.unit

event_rows = st.fixed_dictionaries(
    {
        L.EVENT_ID: st.sampled_from(["E1", "E2", "E3", "E4", None]),
        L.USER_ID: st.sampled_from(["U00000001", "U00000002", "U99999999", None]),
        L.PRODUCT_ID: st.sampled_from(["P00000001", "P00000002", "P9"]),
        L.EVENT_TYPE: st.sampled_from([*L.EVENT_TYPES, "wishlist"]),
        L.TS: st.integers(-30, 50).map(lambda hours: NOON + timedelta(hours=hours)),
        L.SESSION_ID: st.sampled_from(["S1", None]),
        L.QUERY: st.one_of(st.none(), st.text(max_size=20)),
        L.RATING: st.one_of(st.none(), st.integers(-2, 9)),
        L.PRICE: st.one_of(st.none(), st.floats(-50, 50, allow_nan=False)),
    }
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(event_rows, max_size=25), max_text_chars=st.integers(1, 30))
def test_rows_in_equal_curated_plus_quarantined(rows: list[dict[str, object]], max_text_chars: int) -> None:
    landing = with_source(pl.DataFrame(rows, schema=L.EVENTS_SCHEMA))
    result = curate_partition(
        landing, table_rules(L.EVENTS), day=DAY, now=NOW, known=KNOWN, max_text_chars=max_text_chars
    )
    assert result.rows_in == len(rows) == result.curated.height + result.quarantine.height
    assert result.quarantine.get_column(R.REASON).null_count() == 0
    keys = result.curated.get_column(L.EVENT_ID)
    assert keys.null_count() == 0 and keys.n_unique() == keys.len()
    # Every quarantined row comes from a distinct landing row; the curated ones are the rest.
    quarantined = result.quarantine.get_column(R.SOURCE_ROW).to_list()
    assert len(set(quarantined)) == len(quarantined)
    assert set(quarantined) <= set(range(len(rows)))
    assert list(result.curated.columns) == list(L.EVENTS_SCHEMA)
