"""Starting the server subprocesses of the cross-process tests, bounded in time."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
# The demo's servers (examples/across_processes) are the tests' servers.
SERVERS = ROOT / "examples" / "across_processes"
SRC = ROOT / "src"


def server_env(traces_url: str) -> dict[str, str]:
    """The environment of a server subprocess: our package, the receiver, a temp HOME."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "SYSTEMROOT")
           if key in os.environ}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(ROOT)])
    env["OTLP_TRACES_URL"] = traces_url
    env["OTEL_SDK_DISABLED"] = "false"
    return env


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s")


@contextlib.contextmanager
def http_server(script: str, traces_url: str, *args: str, directory: Path = SERVERS,
                env: dict[str, str] | None = None) -> Iterator[tuple[int, subprocess.Popen]]:
    """`script` (in `directory`) serving HTTP on 127.0.0.1 at a free port; stopped on exit.

    `env` adds to the server's environment.
    """
    port = free_port()
    process = subprocess.Popen([sys.executable, str(directory / script), *args, str(port)],
                               env={**server_env(traces_url), **(env or {})}, cwd=str(HERE),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, process)
        yield port, process
    finally:
        stop(process)


def kill_on(process: subprocess.Popen, marker: str) -> None:
    """Kills `process` once it writes `marker` on its stderr: the call under test is
    then in flight in the server, however long the client took to get there."""
    def watch() -> None:
        for line in iter(process.stderr.readline, b""):  # type: ignore[union-attr]
            if marker.encode() in line:
                process.kill()
                return

    threading.Thread(target=watch, name="kill-on-marker", daemon=True).start()


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    if process.stderr is not None:
        process.stderr.close()


@contextlib.contextmanager
def redis_server() -> Iterator[tuple[int, subprocess.Popen]]:
    """A real ``redis-server`` on 127.0.0.1 at a free port, persisting nothing; stopped on exit."""
    import shutil
    import tempfile

    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed (Debian package redis-server; "
                           ".ci/run installs it)")
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="otel-agents-redis-") as directory:
        process = subprocess.Popen(
            [executable, "--bind", "127.0.0.1", "--port", str(port), "--dir", directory,
             "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            wait_for_port(port, process, timeout=15)
            yield port, process
        finally:
            stop(process)


@contextlib.contextmanager
def worker_process(script: Path, traces_url: str, *args: str) -> Iterator[subprocess.Popen]:
    """`script` started with `args`, once it printed ``ready``; stopped on exit."""
    process = subprocess.Popen([sys.executable, str(script), *args],
                               env=server_env(traces_url), cwd=str(HERE),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        for line in process.stdout:  # anything the runtime prints first, then ours
            lines.append(line)
            if line.strip() == "ready":
                break
        else:
            stop(process)
            raise RuntimeError(f"worker did not start: {lines!r}")
        yield process
    finally:
        stop(process)
        if process.stdout is not None:
            process.stdout.close()
