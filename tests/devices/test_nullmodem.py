import os
import threading

import pytest
import serial

from devices.nullmodem import NullModem


def open_port(path):
    return serial.serial_for_url(path, baudrate=9600, timeout=1)


def test_both_directions_and_close_stops_thread():
    before = set(threading.enumerate())
    with NullModem() as m:
        a, b = open_port(m.a), open_port(m.b)
        a.write(b"ping\n")
        assert b.readline() == b"ping\n"
        b.write(b"pong\n")
        assert a.readline() == b"pong\n"
        a.close()
        b.close()
    assert set(threading.enumerate()) <= before


def test_large_write_arrives_in_order(modem):
    a, b = open_port(modem.a), open_port(modem.b)
    data = bytes(range(256)) * 200
    a.write(data)
    got = b.read(len(data))
    assert got == data
    a.close()
    b.close()


def test_inject_and_filter(modem):
    a, b = open_port(modem.a), open_port(modem.b)
    modem.inject("b", b"injected\n")
    assert b.readline() == b"injected\n"
    modem.set_filter("a>b", lambda chunk: chunk.upper())
    a.write(b"quiet\n")
    assert b.readline() == b"QUIET\n"
    with pytest.raises(ValueError):
        modem.set_filter("sideways", None)
    a.close()
    b.close()


def test_unplug_hangs_up_and_replug_works_on_same_paths(modem):
    a, b = open_port(modem.a), open_port(modem.b)
    modem.unplug()
    with pytest.raises(serial.SerialException):
        b.read(1)
    # the device node is gone, as a pulled USB adapter's is (its pts number may be reused)
    assert not os.path.lexists(modem.a) and not os.path.lexists(modem.b)
    a.close()
    b.close()
    modem.replug()
    a, b = open_port(modem.a), open_port(modem.b)
    a.write(b"again\n")
    assert b.readline() == b"again\n"
    a.close()
    b.close()


def test_an_unplugged_cable_leads_nowhere():
    """A freed /dev/pts number may already belong to another process's pty: a stale link must not reach it."""
    import os

    with NullModem() as cable:
        cable.unplug()
        assert not os.path.exists(cable.a) and not os.path.exists(cable.b)
        with pytest.raises(serial.SerialException):
            serial.serial_for_url(cable.a)
        cable.replug()
        assert os.path.realpath(cable.a).startswith("/dev/pts/")
