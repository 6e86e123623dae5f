"""Hardware drivers: bytes in, typed timestamped readings out (see devices/readings.py).

Layers, as in pymodbus: transport (``devices.transport``, pyserial URLs) ->
framer (``devices.framing``; pymodbus's RTU framer for Modbus) -> decoder ->
readings, run in threads by ``devices.runner.DeviceRunner``. Device kinds:
``devices.gnss``, ``devices.signalboard``, ``devices.courseboard``; each has a
simulated twin, and ``devices.nullmodem`` connects twin and driver without
hardware. This package never imports flask, the database, scoring or examroom.
"""
