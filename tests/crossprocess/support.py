"""Starting the server subprocesses of the cross-process tests, bounded in time."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
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
def http_server(script: str, traces_url: str, *args: str) -> Iterator[tuple[int, subprocess.Popen]]:
    """`script` serving HTTP on 127.0.0.1 at a free port; stopped on exit."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(SERVERS / script), *args, str(port)],
                               env=server_env(traces_url), cwd=str(HERE),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_port(port, process)
        yield port, process
    finally:
        stop(process)


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
