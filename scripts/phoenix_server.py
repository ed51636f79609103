"""Start and stop a local Arize Phoenix server, offline and throw-away.

Phoenix runs from its own virtual environment (`.venv-phoenix`, made by
`make .venv-phoenix/.installed` from `requirements-phoenix.txt`): its newest
releases need packages that the agent runtimes do not accept, so the two never
share an environment and talk only over OTLP/HTTP.

The server:

- listens on 127.0.0.1 only (HTTP on a free port unless one is given, the OTLP
  gRPC receiver too, see `phoenix_launch.py`);
- keeps everything (SQLite database, working directory, HOME) in a temporary
  directory that is removed when it stops;
- has its telemetry and every outside fetch off: `PHOENIX_TELEMETRY_ENABLED`
  (FullStory / Scarf pixels), `PHOENIX_ALLOW_EXTERNAL_RESOURCES` (web fonts,
  sandbox download, telemetry), the agent assistant, code sandboxes and the
  MCP mount;
- runs in its own process group, killed whole when it stops.

As a library (standard library only, any interpreter):

    with PhoenixServer() as phoenix:
        ... send OTLP/HTTP to phoenix.otlp_endpoint ...
        spans = phoenix.get_json("/v1/projects/my-project/spans", limit=1000)

As a command, to look at traces in a browser (Ctrl-C stops it):

    .venv/bin/python scripts/phoenix_server.py            # http://127.0.0.1:6006
    .venv/bin/python examples/phoenix_demo.py             # in another shell
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[1]
LAUNCHER = pathlib.Path(__file__).resolve().with_name("phoenix_launch.py")
DEFAULT_PYTHON = ROOT / ".venv-phoenix" / "bin" / "python"

# Phoenix's own switches (read off phoenix/config.py, arize-phoenix 20.26.1).
OFFLINE_ENV = {
    "PHOENIX_TELEMETRY_ENABLED": "false",
    "PHOENIX_ALLOW_EXTERNAL_RESOURCES": "false",
    "PHOENIX_DISABLE_AGENT_ASSISTANT": "true",
    "PHOENIX_ENABLE_MCP_SERVER": "false",
    "PHOENIX_AGENTS_DISABLE_BASH": "true",
    "PHOENIX_ALLOWED_SANDBOX_PROVIDERS": "NONE",
    "PHOENIX_ENABLE_PROMETHEUS": "false",
    "PHOENIX_ENABLE_AUTH": "false",
    "DO_NOT_TRACK": "1",
}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the process that started us dies (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class PhoenixError(RuntimeError):
    pass


class PhoenixServer:
    """One Phoenix process; `start()` returns once it answers `/readyz`."""

    def __init__(self, *, python: str | os.PathLike | None = None, port: int | None = None,
                 working_dir: str | os.PathLike | None = None, startup_timeout: float = 180.0):
        self.python = pathlib.Path(python or os.environ.get("PHOENIX_PYTHON") or DEFAULT_PYTHON)
        self._fixed_port = port
        self._working_dir = pathlib.Path(working_dir) if working_dir else None
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self.grpc_port: int | None = None
        self.process: subprocess.Popen | None = None
        self.tmp: pathlib.Path | None = None
        self.log_path: pathlib.Path | None = None

    # -- addresses -------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def otlp_endpoint(self) -> str:
        return f"{self.url}/v1/traces"

    # -- lifecycle -------------------------------------------------------
    def __enter__(self) -> PhoenixServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if not self.python.exists():
            raise PhoenixError(f"{self.python} not found: run `make .venv-phoenix/.installed` "
                               "(or set PHOENIX_PYTHON)")
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="phoenix-"))
        attempts = 1 if self._fixed_port else 3
        for attempt in range(attempts):
            try:
                self._spawn()
                self._wait_ready()
                return
            except PhoenixError:
                self._kill()
                if attempt == attempts - 1:
                    self.stop()
                    raise

    def _spawn(self) -> None:
        assert self.tmp is not None
        self.port = self._fixed_port or free_port()
        self.grpc_port = free_port()
        work = self._working_dir or self.tmp / "work"
        work.mkdir(parents=True, exist_ok=True)
        home = self.tmp / "home"
        home.mkdir(exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PHOENIX_", "OTEL_", "POSTGRES", "PG"))}
        env.update(OFFLINE_ENV)
        env.update({
            "PHOENIX_HOST": "127.0.0.1",
            "PHOENIX_PORT": str(self.port),
            "PHOENIX_GRPC_PORT": str(self.grpc_port),
            "PHOENIX_WORKING_DIR": str(work),
            "PHOENIX_SQL_DATABASE_URL": f"sqlite:///{work}/phoenix.db",
            "HOME": str(home),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        })
        self.log_path = self.tmp / f"phoenix-{self.port}.log"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [str(self.python), str(LAUNCHER)], cwd=work, env=env, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None)

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise PhoenixError(f"Phoenix exited before it was ready:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise PhoenixError(f"Phoenix not ready after {self.startup_timeout}s:\n{self.log_tail()}")

    def _kill(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        # Anything it left behind in its group (workers) goes too.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def stop(self) -> None:
        self._kill()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    # -- REST ------------------------------------------------------------
    def get_json(self, path: str, **query) -> dict:
        """GET `path` on the server (query values may be lists), decoded."""
        url = f"{self.url}{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.load(response)

    def graphql(self, query: str, **variables) -> dict:
        """POST a query to Phoenix's GraphQL API (what its web UI reads); its `data`."""
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(f"{self.url}/graphql", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)
        if answer.get("errors"):
            raise PhoenixError(f"GraphQL errors: {answer['errors']}")
        return answer["data"]

    def spans(self, project: str, **query) -> list[dict]:
        """Every span Phoenix stored for `project` (GET /v1/projects/{project}/spans)."""
        spans: list[dict] = []
        cursor = None
        while True:
            page_query = {"limit": 1000, **query, **({"cursor": cursor} if cursor else {})}
            try:
                page = self.get_json(
                    f"/v1/projects/{urllib.parse.quote(project, safe='')}/spans", **page_query)
            except urllib.error.HTTPError as e:
                if e.code == 404:  # no span of this project has arrived yet
                    return []
                raise
            spans.extend(page["data"])
            cursor = page.get("next_cursor")
            if not cursor:
                return spans

    def wait_for_spans(self, project: str, count: int, timeout: float = 60.0) -> list[dict]:
        """Poll until `project` holds at least `count` spans (Phoenix inserts in batches)."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans(project)
            if len(spans) >= count or time.monotonic() > deadline:
                return spans
            time.sleep(0.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=6006,
                        help="HTTP port on 127.0.0.1 (0 for a free one; default 6006)")
    parser.add_argument("--python", help="the Phoenix environment's interpreter "
                        f"(default $PHOENIX_PYTHON or {DEFAULT_PYTHON.relative_to(ROOT)})")
    args = parser.parse_args()

    server = PhoenixServer(python=args.python, port=args.port or None)

    def _stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        server.start()
        print(f"Phoenix UI:      {server.url}", flush=True)
        print(f"OTLP/HTTP:       {server.otlp_endpoint}", flush=True)
        print(f"send the demo:   PHOENIX_COLLECTOR_ENDPOINT={server.url} "
              "python examples/phoenix_demo.py", flush=True)
        print("Ctrl-C stops it (its data goes with it).", flush=True)
        while server.process is not None and server.process.poll() is None:
            time.sleep(0.5)
        print(f"Phoenix exited:\n{server.log_tail()}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()
