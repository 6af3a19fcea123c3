"""Start, find and stop detached service processes through pid files, and wait for their ports."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from shopgraph.errors import ShopgraphError


class ServiceError(ShopgraphError, RuntimeError):
    """A service could not be started or reached; the message says what and how to fix it."""


@dataclass
class ServiceStatus:
    name: str
    running: bool
    pid: int | None
    urls: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    managed: bool = True
    detail: str = ""


def _pid_file(name: str, run_dir: Path) -> Path:
    return run_dir / f"{name}.pid"


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie still answers kill(0); it is dead for our purposes.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def start_detached(
    name: str,
    argv: list[str],
    *,
    run_dir: Path,
    log_path: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start argv in its own session with output appended to log_path; record its pid in run_dir."""
    run_dir.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        log.write(f"\n--- starting {name}: {time.strftime('%Y-%m-%d %H:%M:%S')} ---\n".encode())
        log.flush()
        process = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
    _pid_file(name, run_dir).write_text(str(process.pid))
    return process.pid


def running_pid(name: str, run_dir: Path) -> int | None:
    """The pid of the named service if its pid file points at a live process; stale files are removed."""
    pid_file = _pid_file(name, run_dir)
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    if _is_alive(pid):
        return pid
    pid_file.unlink(missing_ok=True)
    return None


def died_detail(name: str, run_dir: Path) -> str:
    """A note when the service's pid file names a process that is gone (it died rather than being stopped)."""
    try:
        pid = int(_pid_file(name, run_dir).read_text().strip())
    except (OSError, ValueError):
        return ""
    if _is_alive(pid):
        return ""
    return f"died (was pid {pid}); `shopgraph services up` restarts it, the log says why"


def stop_service_process(name: str, run_dir: Path, timeout_s: float = 30) -> bool:
    """SIGTERM the service's process group, wait, then SIGKILL; True when something was stopped."""
    pid = running_pid(name, run_dir)
    if pid is None:
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and _is_alive(pid):
        _reap(pid)
        time.sleep(0.2)
    if _is_alive(pid):
        _signal_group(pid, signal.SIGKILL)
        time.sleep(0.5)
    _reap(pid)
    _pid_file(name, run_dir).unlink(missing_ok=True)
    return True


def _signal_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)
    except ProcessLookupError:
        return
    except PermissionError:
        os.kill(pid, sig)


def _reap(pid: int) -> None:
    # Children of this process must be waited for, or they linger as zombies.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def port_is_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def tail_lines(path: Path | None, count: int = 15) -> str:
    """The last lines of a log file, for error messages."""
    if path is None or not path.exists():
        return ""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        handle.seek(max(0, size - 16384))
        lines = handle.read().decode(errors="replace").splitlines()
    return "\n".join(lines[-count:])


def wait_for_port(
    host: str,
    port: int,
    *,
    timeout_s: float,
    name: str,
    pid: int | None = None,
    log_path: Path | None = None,
) -> None:
    """Block until host:port accepts connections; ServiceError if the process dies or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if port_is_open(host, port):
            return
        if pid is not None and not _is_alive(pid):
            _reap(pid)
            raise ServiceError(f"{name} exited during start-up; see {log_path}:\n{tail_lines(log_path)}")
        time.sleep(0.5)
    raise ServiceError(
        f"{name} did not open {host}:{port} within {timeout_s:.0f}s; see {log_path}:\n{tail_lines(log_path)}"
    )
