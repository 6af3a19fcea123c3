"""Quarantine reason codes and the working columns the ingestion rules add to a landing frame."""

from __future__ import annotations

# Working columns carried beside the landing columns while rules run (never written to curated/).
SOURCE_FILE = "source_file"
SOURCE_ROW = "source_row"
REASON = "reason"
RULE = "rule"
WORK_COLUMNS: tuple[str, ...] = (SOURCE_FILE, SOURCE_ROW, REASON, RULE)
REASON_SEPARATOR = ";"
RULE_SEPARATOR = "; "

# Reason codes; where a generator fault kind exists the code is the same word.
NULL_KEY = "null_key"
DUPLICATE_KEY = "duplicate_key"
CAST_FAILED = "cast_failed"
INVALID_UTF8 = "invalid_utf8"
NULL_VALUE = "null_value"
TEXT_TOO_LONG = "text_too_long"
OUT_OF_RANGE = "out_of_range"
UNKNOWN_CATEGORY = "unknown_category"
INCONSISTENT = "inconsistent_fields"
FUTURE_TIMESTAMP = "future_timestamp"
OUTSIDE_PARTITION = "outside_partition"
ORPHAN_REFERENCE = "orphan_reference"

REASONS: tuple[str, ...] = (
    NULL_KEY,
    DUPLICATE_KEY,
    CAST_FAILED,
    INVALID_UTF8,
    NULL_VALUE,
    TEXT_TOO_LONG,
    OUT_OF_RANGE,
    UNKNOWN_CATEGORY,
    INCONSISTENT,
    FUTURE_TIMESTAMP,
    OUTSIDE_PARTITION,
    ORPHAN_REFERENCE,
)

# Text repairs counted (not quarantined) by normalisation.
FIX_MOJIBAKE = "mojibake_repaired"
FIX_HTML = "html_stripped"
FIX_CONTROL = "control_chars_removed"
FIX_WHITESPACE = "whitespace_collapsed"
FIX_UNICODE = "unicode_nfc"
