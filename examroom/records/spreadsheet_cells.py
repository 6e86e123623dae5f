"""Cells of files that leave the course (CSV for upload, spreadsheets), safe to open.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula (and after a leading tab or carriage return too), so a candidate name
or a school typed as ``=HYPERLINK(...)`` would act when an office opens the
export. Such text is written with a leading apostrophe, which spreadsheets show
as text and which a person reads past (OWASP "CSV injection"). Numbers stay
numbers; the JSON beside the CSV keeps every value as stored.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """``value`` as a spreadsheet cell that is never run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
