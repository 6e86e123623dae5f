"""Live: the attempt as it happens.

Owns the controller (readings in, judges driven, verdicts recorded), the one observation
router that sends course inputs to the judges, live and in replay (``routing``, with the
conversions into the course frame in ``observing``), supervisor commands, the live feed, the
live course view, the re-judge of a stored attempt (``rejudge``), and the console link that serves the feed to the web console and takes its
commands (``link.ConsoleLink``).

May import: ``records``, ``scoring``, ``devices``. Never ``web``.
"""
