"""Site: the course's site file, read strictly.

Owns the settings a course is configured with (serial ports, devices, health limits, time
zone, database URL) and its camera section (``cameras``).

May import: ``records`` (the database URL check), ``video`` (camera placement and retention
types), ``examroom.courseclock``.
"""
