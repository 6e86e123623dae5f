"""Station: the running course.

Owns the course service that wires devices to the controller, serial port discovery and
hardware drivers, device health and self-check, raw capture and its replay, crash recovery
and the web child process.

May import: every room below it (``site``, ``video``, ``examday``, ``live``, ``faces``,
``accounts``, ``records``), ``devices``, ``scoring``.
"""
