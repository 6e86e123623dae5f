"""The city: one database holding every county course's records (issue 16, docs/city.md).

Owns what the city does with the courses' records: the weekly random review (抽检: the draw from
a committed seed, assignments and outcomes, ``sampling``, ``review_book``), fetching an attempt's
evidence from its course and checking it against the seals (``evidence``), the warnings
computed over every course's records (``warnings``), and the city settings file that holds their
thresholds (``watch_settings``). Replication and the courses' clusters are built here too.

May import: ``examroom.records``, ``examroom.accounts`` (the audit log), ``examroom.courseclock``.
"""
