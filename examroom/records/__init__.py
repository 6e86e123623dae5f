"""Records: what the course keeps and can prove.

Owns the database (models, engine, migrations), the attempt log and its journal hash chain,
sealing and the signed slip statement, verify, reviews, statistics and their export, copying a
course's rows into another database (``db move-to``, the city; every row keyed by its course),
and how a person's ID number and name are checked and shown (``people``).

May import: ``examroom.courseclock``, ``scoring``.
"""
