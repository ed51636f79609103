"""Runtimes that are not installed: silent under opentelemetry-instrument.

Runs the real `opentelemetry-instrument` launcher in an environment with
OpenTelemetry and `opentelemetry-distro` but no runtime at all (no AgentScope,
Hermes, PraisonAI, MCP or A2A SDK), as a user of one other runtime would have.
"""

from __future__ import annotations

import os
import subprocess
import textwrap

from .bare_env import ROOT, bare_venv, without_otel_env

APP = textwrap.dedent("""
    import importlib.util, logging
    from opentelemetry import trace
    import opentelemetry.instrumentation.agents as agents
    assert importlib.util.find_spec("agentscope") is None, "agentscope is visible"
    with trace.get_tracer("app").start_as_current_span("app work"):
        pass
    print("ours from", agents.__file__)
""")

LAUNCH = ("import sys; from opentelemetry.instrumentation.auto_instrumentation import run; "
          "sys.argv = ['opentelemetry-instrument', *sys.argv[1:]]; run()")


def test_opentelemetry_instrument_without_any_runtime_prints_no_warning(tmp_path):
    python = bare_venv(tmp_path / "venv", ["opentelemetry-distro", "opentelemetry-sdk",
                                           "opentelemetry-instrumentation",
                                           "opentelemetry-semantic-conventions", "wrapt"])
    (tmp_path / "app.py").write_text(APP)
    env = without_otel_env(dict(os.environ))
    env["PATH"] = f"{python.parent}{os.pathsep}{env['PATH']}"
    env.update(OTEL_TRACES_EXPORTER="console", OTEL_METRICS_EXPORTER="none",
               OTEL_LOGS_EXPORTER="none")
    out = subprocess.run([str(python), "-c", LAUNCH, "python", "app.py"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert f"ours from {ROOT / 'src'}" in out.stdout  # this checkout's source
    assert '"name": "app work"' in out.stdout  # the launcher did configure the SDK
    assert out.stderr == "", out.stderr  # not one warning: nothing here is ours to trace
