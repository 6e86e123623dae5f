"""Live: the attempt as it happens.

Owns the controller (readings in, judges driven, verdicts recorded), the routing of course
inputs to poses and signals (``observing``), supervisor commands, the live feed, the live
course view, and the link that serves the feed to the web console and takes its commands.

May import: ``records``, ``scoring``, ``devices``. Never ``web``.
"""
