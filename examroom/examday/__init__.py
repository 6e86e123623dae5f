"""Exam day: the people side of a sitting.

Owns sittings and their schedule, the roster import, check-in, call-up and the waiting hall,
the result slip and the national upload export.

May import: ``records``, ``faces``, ``examroom.courseclock``.
"""
