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
