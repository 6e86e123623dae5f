"""city: courses replicating their records into a city database, and watching that they do.

Owns the local PostgreSQL clusters the city tier runs on (``clusters``: initdb, start, stop),
the logical replication between a course and the city (``replication``: the course's
publication, the city's subscription per course, re-sync), what the city sees of each course's
link (``watch``: lag, last contact, the WAL a course's slot holds back) and a TCP relay that can
cut and restore a link on purpose (``relay``: the tests and the demo's key press).

PostgreSQL's own logical replication carries the records; nothing here speaks a protocol of its
own.

May import: ``records`` (the schema and its migrations), ``messages``. Never ``web``; used by
``simulation`` (the demo's city) and ``cli``.
"""
