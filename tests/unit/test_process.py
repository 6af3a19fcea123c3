"""Tests of detached service processes: pid files, readiness, port clashes, crashes, clean stops."""

import socket
import sys
from pathlib import Path

import pytest

from shopgraph.services.managed import ServiceSpec, service_status, start_service, stop_service
from shopgraph.services.process import ServiceError, port_is_open, running_pid

pytestmark = pytest.mark.unit


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _http_spec(tmp_path: Path, port: int, argv: list[str] | None = None) -> ServiceSpec:
    return ServiceSpec(
        name="toy-http",
        argv=argv or [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        run_dir=tmp_path / "run",
        log_path=tmp_path / "logs" / "toy.log",
        port=port,
        health_url=f"http://127.0.0.1:{port}/",
        urls={"ui": f"http://127.0.0.1:{port}/"},
        start_timeout_s=20,
        port_setting="TOY_PORT",
    )


def test_start_twice_status_and_stop(tmp_path: Path) -> None:
    spec = _http_spec(tmp_path, _free_port())
    first = start_service(spec)
    try:
        assert first.running and first.pid
        assert port_is_open("127.0.0.1", spec.port or 0)
        again = start_service(spec)
        assert again.pid == first.pid
        assert service_status(spec).running
    finally:
        assert stop_service(spec) is True
    assert not service_status(spec).running
    assert stop_service(spec) is False


def test_port_taken_by_someone_else(tmp_path: Path) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        with pytest.raises(ServiceError, match=rf"port {port} is already taken.*TOY_PORT"):
            start_service(_http_spec(tmp_path, port))


def test_crash_during_start_reports_log(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", "import sys; print('boom: bad config'); sys.exit(3)"]
    spec = _http_spec(tmp_path, _free_port(), argv)
    with pytest.raises(ServiceError, match="exited during start-up(.|\n)*boom: bad config"):
        start_service(spec)


def test_stale_pid_file_is_ignored(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "ghost.pid").write_text("999999")
    assert running_pid("ghost", run_dir) is None
    assert not (run_dir / "ghost.pid").exists()


def test_a_service_that_dies_shows_in_status_and_up_restarts_it(tmp_path: Path) -> None:
    import os
    import signal
    import time

    spec = _http_spec(tmp_path, _free_port())
    first = start_service(spec)
    try:
        assert first.pid
        os.killpg(first.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        status = service_status(spec)
        while status.running and time.monotonic() < deadline:
            time.sleep(0.1)
            status = service_status(spec)
        assert not status.running
        assert f"died (was pid {first.pid})" in status.detail
        restarted = start_service(spec)
        assert restarted.running and restarted.pid != first.pid
        assert service_status(spec).detail == ""
    finally:
        stop_service(spec)
