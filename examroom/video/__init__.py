"""The video layer: recording into segments, evidence, retention, export, live view.

Camera access itself is in ``devices.camera``; this package decides what is
kept, for how long, and how an auditor gets it back.

May import: ``records``, ``live`` (the live feed), ``examroom.courseclock``.
"""
