"""The TCP relay carries bytes both ways, cuts every connection and refuses new ones while cut,
and carries them again once restored."""

from __future__ import annotations

import socket
import threading

import pytest

from examroom.city.relay import TcpRelay


@pytest.fixture
def echo():
    """A TCP echo server on a free port; closed after the test."""
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=_echo, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[:2]
    stop.set()
    socket.create_connection(server.getsockname()[:2]).close()  # wakes the accept, which then sees stop
    thread.join(timeout=5)
    server.close()


def _echo(connection):
    with connection:
        while data := connection.recv(4096):
            connection.sendall(data)


def _round_trip(address, payload=b"journal row") -> bytes:
    with socket.create_connection(address, timeout=5) as client:
        try:
            client.sendall(payload)
            return _read(client, len(payload))
        except ConnectionResetError:  # closed by the relay before or while we wrote
            return b""


def _read(client, size):
    data = b""
    while len(data) < size:
        chunk = client.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def test_bytes_pass_until_the_link_is_cut_and_again_once_restored(echo):
    with TcpRelay(echo) as relay:
        assert _round_trip(relay.address) == b"journal row"
        held = socket.create_connection(relay.address, timeout=5)
        held.sendall(b"x")
        assert _read(held, 1) == b"x"

        relay.cut()
        assert held.recv(1) == b""  # the open connection ended: the link went down
        held.close()
        assert _round_trip(relay.address) == b""  # a new one is closed at once while cut
        assert not relay.up

        relay.restore()
        assert _round_trip(relay.address, b"x" * 200_000) == b"x" * 200_000
        assert relay.counts().cuts == 1 and relay.counts().refused == 1 and relay.counts().accepted >= 3
    assert not [t for t in threading.enumerate() if t.name.startswith("city-relay")]


def test_a_course_that_is_down_looks_like_a_failed_connection():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with TcpRelay(("127.0.0.1", port)) as relay:
        assert _round_trip(relay.address) == b""


def test_a_cut_while_the_relay_connects_on_refuses_that_connection_and_keeps_the_relay_working(echo, monkeypatch):
    """The cut lands between admitting a city connection and reaching the course: that connection
    is closed, and the relay (its lock) stays usable for the restore and what follows. It once
    closed the pair under its own lock, whose release the pair's close then waited for: the relay
    hung at the next cut and the city demo printed nothing more."""
    import examroom.city.relay as relay_module

    relay = TcpRelay(echo).start()
    real_connect = socket.create_connection
    cut_during = threading.Event()

    def connect_then_cut(address, *args, **kwargs):
        upstream = real_connect(address, *args, **kwargs)
        if threading.current_thread().name == "city-relay-accept" and not cut_during.is_set():
            cut_during.set()
            relay.cut()
        return upstream

    monkeypatch.setattr(relay_module.socket, "create_connection", connect_then_cut)
    finished = threading.Event()
    try:
        assert _round_trip(relay.address) == b""  # cut while it connected on: closed

        def restore_and_count():
            relay.restore()
            finished.counts = relay.counts()
            finished.set()

        threading.Thread(target=restore_and_count, daemon=True).start()
        assert finished.wait(10), "the relay's lock is held: restore() never returned"
        assert finished.counts.refused == 1 and finished.counts.cuts == 1
        assert _round_trip(relay.address) == b"journal row"
    finally:
        monkeypatch.undo()
        if finished.is_set():  # a relay whose lock is held would hang its close as well
            relay.close()
