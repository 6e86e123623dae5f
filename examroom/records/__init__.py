"""Records: what the course keeps and can prove.

Owns the database (models, engine, migrations), the attempt log and its journal hash chain,
sealing and the signed slip statement, verify, reviews, statistics and their export,
and how a person's ID number and name are checked and shown (``people``).

May import: ``examroom.courseclock``, ``scoring``.
"""
