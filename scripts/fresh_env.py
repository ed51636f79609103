"""Follow the README in fresh virtual environments outside the repository.

Builds the wheel, then for each runtime makes a new environment (uv) in a
temporary directory, installs ``<wheel>[extra] opentelemetry-distro`` as the
README says, and runs that runtime's documented zero-code command from a
directory outside the checkout: ``opentelemetry-instrument`` with the console
exporter, the app talking to the standalone scripted model server (started
from the same environment). Passes when the agent's ``invoke_agent`` span is
in the console output and nothing was written to stderr but the app's own.

    python scripts/fresh_env.py [--python 3.11] [--only praisonai,hermes]

Run by `make fresh-env` (and `.ci/run`); prints each cell's minutes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UV = Path(sys.executable).with_name("uv")
QUICKSTART = ROOT / "examples" / "quickstart"
# extra -> (app file, needs the scripted server, the agent span it must print)
CELLS = {
    "praisonai": (QUICKSTART / "praisonai_app.py", True, "invoke_agent weather-assistant"),
    "hermes": (QUICKSTART / "hermes_app.py", True, "invoke_agent hermes"),
    "agentscope": (ROOT / "examples" / "agentscope_demo.py", False,
                   "invoke_agent weather-assistant"),
    "agentscope1": (QUICKSTART / "agentscope1_app.py", True, "invoke_agent weather-assistant"),
}


def _run(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, check=True, capture_output=True, text=True, **kwargs)


def build_wheel(out: Path) -> Path:
    _run([str(UV), "build", "--wheel", "--out-dir", str(out), str(ROOT)])
    return next(out.glob("*.whl"))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _env(home: Path, venv: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OTEL_", "OPENAI_", "HERMES_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(home), PATH=f"{venv / 'bin'}{os.pathsep}{env['PATH']}",
               OTEL_TRACES_EXPORTER="console", OTEL_METRICS_EXPORTER="none",
               OTEL_LOGS_EXPORTER="none", OPENAI_API_KEY="test",
               LITELLM_LOCAL_MODEL_COST_MAP="True")
    return env


def run_cell(extra: str, wheel: Path, work: Path, python: str) -> str | None:
    """None when the cell passes, else what went wrong."""
    app, served, expected = CELLS[extra]
    venv, home = work / f"venv-{extra}", work / f"home-{extra}"
    home.mkdir()
    _run([str(UV), "venv", "--quiet", "--python", python, str(venv)])
    _run([str(UV), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
          f"{wheel}[{extra}]", "opentelemetry-distro"])
    shutil.copy(app, home / app.name)
    shutil.copy(QUICKSTART / "script.json", home / "script.json")
    env = _env(home, venv)
    env["HERMES_HOME"] = str(home / ".hermes")
    server = None
    if served:
        port = _free_port()
        server = subprocess.Popen(
            ["python", "-m", "opentelemetry.instrumentation.agents.testing.scripted_server",
             "--port", str(port), "--script", "script.json"],
            cwd=home, env=env, stdout=subprocess.PIPE, text=True)
        server.stdout.readline()  # "serving ..." once it accepts connections
        env["OPENAI_BASE_URL"] = f"http://127.0.0.1:{port}/v1"
    try:
        out = subprocess.run(["opentelemetry-instrument", "python", app.name], cwd=home,
                             env=env, capture_output=True, text=True, timeout=300)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
    if out.returncode != 0:
        return f"exit {out.returncode}: {out.stderr[-2000:]}"
    if f'"name": "{expected}"' not in out.stdout:
        return f"no {expected!r} span in the output: {out.stdout[-2000:]}"
    if "not supported" in out.stderr or "not instrumented" in out.stderr:
        return f"a warning about runtimes: {out.stderr[-2000:]}"
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--python", default="3.11")
    parser.add_argument("--only", default=",".join(CELLS))
    args = parser.parse_args(argv)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="fresh-env-") as tmp:
        work = Path(tmp)
        started = time.monotonic()
        wheel = build_wheel(work / "dist")
        print(f"wheel {wheel.name}: {(time.monotonic() - started) / 60:.1f} min", flush=True)
        for extra in args.only.split(","):
            started = time.monotonic()
            try:
                problem = run_cell(extra, wheel, work, args.python)
            except subprocess.CalledProcessError as exc:
                problem = f"{' '.join(map(str, exc.cmd))[:200]}: {exc.stderr[-2000:]}"
            minutes = (time.monotonic() - started) / 60
            print(f"{extra}: {'ok' if problem is None else 'FAILED'} ({minutes:.1f} min)",
                  flush=True)
            if problem is not None:
                failed += 1
                print(problem, flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
