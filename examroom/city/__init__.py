"""city: courses replicating their records into a city database, and what the city does with them.

Owns the local PostgreSQL clusters the city tier runs on (``clusters``: initdb, start, stop), the
logical replication between a course and the city (``replication``: the course's publication,
the city's subscription per course, re-sync), what the city sees of each course's link
(``watch``: lag, last contact, the WAL a course's slot holds back), a TCP relay that can cut and
restore a link on purpose (``relay``: the tests and the demo's key press), and the city's work
on the replicated records (docs/city.md): the weekly random review (抽检: the draw from a
committed seed, assignments and outcomes, ``sampling``, ``review_book``), fetching an attempt's
evidence from its course and checking it against the seals (``evidence``), the continuous
verification of every course's replicated seals against the keys the city registered, its
results stored (``verification``), the warnings computed over every course's records
(``warnings``) and the city settings file that holds their
thresholds (``watch_settings``).

PostgreSQL's own logical replication carries the records; nothing here speaks a protocol of its
own.

May import: ``records`` (the schema and its migrations), ``accounts`` (the audit log),
``courseclock``, ``messages``. Never ``web``; used by ``simulation`` (the demo's city) and ``cli``.
"""
