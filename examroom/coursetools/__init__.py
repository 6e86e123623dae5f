"""Course tools: course files for surveyors and for the judge's check.

Owns building a standard course (``builder``), drawing it, its plan for the screens, the
route planner that proves a course drivable, and recorded tracks.

May import: ``scoring``, ``devices``; no other room.
"""
