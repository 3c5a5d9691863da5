"""sd_notify client against real AF_UNIX datagram sockets, the way systemd listens."""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.service import sdnotify


@pytest.fixture
def path_listener(tmp_path: Path) -> Iterator[tuple[socket.socket, dict[str, str]]]:
    """A datagram socket bound to a file, and the environment systemd would give us for it."""
    path = tmp_path / "notify"  # short: AF_UNIX paths must fit in 108 bytes
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(5)
        yield sock, {"NOTIFY_SOCKET": str(path)}


@pytest.fixture
def abstract_listener() -> Iterator[tuple[socket.socket, dict[str, str]]]:
    """A datagram socket in the abstract namespace ('@name' in $NOTIFY_SOCKET)."""
    name = f"news-monitor-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(5)
        yield sock, {"NOTIFY_SOCKET": "@" + name}


SENDERS: list[tuple[Callable[..., bool], tuple[str, ...], bytes]] = [
    (sdnotify.ready, (), b"READY=1"),
    (sdnotify.stopping, (), b"STOPPING=1"),
    (sdnotify.watchdog, (), b"WATCHDOG=1"),
    (sdnotify.status, ("polling 12 feeds",), b"STATUS=polling 12 feeds"),
    (sdnotify.notify, ("READY=1\nSTATUS=up",), b"READY=1\nSTATUS=up"),
]


@pytest.mark.parametrize(("send", "args", "expected"), SENDERS)
def test_path_socket_receives_each_message(
    path_listener: tuple[socket.socket, dict[str, str]],
    send: Callable[..., bool],
    args: tuple[str, ...],
    expected: bytes,
) -> None:
    sock, env = path_listener
    assert send(*args, environ=env) is True
    assert sock.recv(4096) == expected


@pytest.mark.parametrize(("send", "args", "expected"), SENDERS)
def test_abstract_socket_receives_each_message(
    abstract_listener: tuple[socket.socket, dict[str, str]],
    send: Callable[..., bool],
    args: tuple[str, ...],
    expected: bytes,
) -> None:
    sock, env = abstract_listener
    assert send(*args, environ=env) is True
    assert sock.recv(4096) == expected


def test_status_folds_newlines_so_text_cannot_add_assignments(
    path_listener: tuple[socket.socket, dict[str, str]],
) -> None:
    sock, env = path_listener
    assert sdnotify.status("feed 'x'\nREADY=1\r\nMAINPID=1", environ=env)
    assert sock.recv(4096) == b"STATUS=feed 'x' READY=1 MAINPID=1"


def test_messages_arrive_in_order(path_listener: tuple[socket.socket, dict[str, str]]) -> None:
    sock, env = path_listener
    sdnotify.status("connecting to the database", environ=env)
    sdnotify.ready(environ=env)
    sdnotify.stopping(environ=env)
    assert [sock.recv(4096) for _ in range(3)] == [
        b"STATUS=connecting to the database",
        b"READY=1",
        b"STOPPING=1",
    ]


@pytest.mark.parametrize("env", [{}, {"NOTIFY_SOCKET": ""}])
def test_without_a_socket_nothing_is_sent(env: dict[str, str], caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger=sdnotify.__name__):
        assert sdnotify.ready(environ=env) is False
    assert caplog.records == []


def test_a_missing_socket_is_a_warning_not_an_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    env = {"NOTIFY_SOCKET": str(tmp_path / "gone")}
    with caplog.at_level(logging.WARNING, logger=sdnotify.__name__):
        assert sdnotify.watchdog(environ=env) is False
    [record] = caplog.records
    assert "WATCHDOG=1" in record.getMessage()
    assert str(tmp_path / "gone") in record.getMessage()


def test_an_unsupported_address_is_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    env = {"NOTIFY_SOCKET": "vsock:2:1234"}
    with caplog.at_level(logging.WARNING, logger=sdnotify.__name__):
        assert sdnotify.ready(environ=env) is False
    [record] = caplog.records
    assert "vsock:2:1234" in record.getMessage()


def test_reads_the_process_environment_by_default(
    path_listener: tuple[socket.socket, dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    sock, env = path_listener
    monkeypatch.setenv("NOTIFY_SOCKET", env["NOTIFY_SOCKET"])
    assert sdnotify.ready() is True
    assert sock.recv(4096) == b"READY=1"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, None),
        ({"WATCHDOG_USEC": ""}, None),
        ({"WATCHDOG_USEC": "30000000"}, 30.0),
        ({"WATCHDOG_USEC": "1500000"}, 1.5),
        ({"WATCHDOG_USEC": "1"}, 0.000001),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "4242"}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": ""}, 30.0),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, None),
        ({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "abc"}, None),
        ({"WATCHDOG_USEC": "0"}, None),
        ({"WATCHDOG_USEC": "-5"}, None),
        ({"WATCHDOG_USEC": "1e6"}, None),
        ({"WATCHDOG_USEC": " 30000000"}, None),
        ({"WATCHDOG_USEC": "٣٠"}, None),  # Arabic-Indic digits: str.isdigit() alone would accept them
        ({"WATCHDOG_PID": "4242"}, None),
    ],
)
def test_watchdog_interval(env: dict[str, str], expected: float | None) -> None:
    assert sdnotify.watchdog_interval(env, pid=4242) == expected


def test_watchdog_interval_defaults_to_our_own_pid() -> None:
    env = {"WATCHDOG_USEC": "2000000", "WATCHDOG_PID": str(os.getpid())}
    assert sdnotify.watchdog_interval(env) == 2.0


def test_bad_watchdog_values_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=sdnotify.__name__):
        assert sdnotify.watchdog_interval({"WATCHDOG_USEC": "soon"}) is None
    [record] = caplog.records
    assert "WATCHDOG_USEC" in record.getMessage()
    assert "'soon'" in record.getMessage()
