"""The scripted server run on its own: `python -m ...testing.scripted_server`."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest
from openai import OpenAI

from opentelemetry.instrumentation.agents.testing.scripted_server.script_file import (
    server_arguments,
)

from ..instrumentor.bare_env import ROOT, bare_venv, without_otel_env

MODULE = "opentelemetry.instrumentation.agents.testing.scripted_server"
SCRIPT = {"script": [
    {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}], "usage": [7, 3]},
    {"text": "Sunny in Paris ({conv})."}]}


def _env() -> dict[str, str]:
    env = without_otel_env(dict(os.environ))
    env["PYTHONPATH"] = str(ROOT / "src")
    return env


@pytest.fixture
def served(tmp_path):
    path = tmp_path / "script.json"
    path.write_text(json.dumps(SCRIPT))
    proc = subprocess.Popen([sys.executable, "-m", MODULE, "--script", str(path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=_env())
    line = proc.stdout.readline()
    assert line.startswith("serving http://127.0.0.1:"), proc.stderr.read()
    yield proc, line.split()[1]
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_serves_the_script_file_until_terminated(served):
    proc, base_url = served
    client = OpenAI(api_key="test", base_url=base_url, max_retries=0)
    messages = [{"role": "user", "content": "weather? [conv:c1]"}]
    first = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    [call] = first.choices[0].message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather",
                                                                          {"city": "Paris"})
    assert (first.usage.prompt_tokens, first.usage.completion_tokens) == (7, 3)
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    second = client.chat.completions.create(model="gpt-4o-mini", messages=messages)
    assert second.choices[0].message.content == "Sunny in Paris (c1)."
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_an_unscripted_request_is_reported_on_stderr(served):
    proc, base_url = served
    client = OpenAI(api_key="test", base_url=base_url, max_retries=0)
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "a"},
                {"role": "user", "content": "b"}, {"role": "assistant", "content": "c"},
                {"role": "user", "content": "d"}]
    with pytest.raises(Exception):  # noqa: B017 - the client's error class is not the point
        client.chat.completions.create(model="m", messages=messages)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    assert "unscripted request:" in proc.stderr.read()


def test_a_bad_script_file_exits_2_with_the_reason(tmp_path):
    path = tmp_path / "script.json"
    path.write_text(json.dumps([{"say": "hi"}]))
    out = subprocess.run([sys.executable, "-m", MODULE, "--script", str(path)],
                         capture_output=True, text=True, env=_env(), timeout=60)
    assert out.returncode == 2
    assert "a turn needs 'text', 'tool_calls' or 'error'" in out.stderr


def test_script_file_forms():
    shared = server_arguments([{"text": "hi"}])
    assert [t.content for t in shared["scripts"]] == ["hi"]
    both = server_arguments({"script": [{"error": 429, "message": "slow down"}],
                             "conversations": {"a": [{"text": "x", "usage": None}]},
                             "marker": "last"})
    assert both["default"][0].status == 429 and both["marker"] == "last"
    assert both["scripts"]["a"][0].usage is None
    with pytest.raises(ValueError, match="unknown keys in the script file: turns"):
        server_arguments({"turns": []})


def test_without_the_sdk_the_server_runs_and_the_tree_helpers_say_what_to_install(tmp_path):
    python = bare_venv(tmp_path / "venv", ["opentelemetry-api", "opentelemetry-instrumentation",
                                           "opentelemetry-semantic-conventions", "wrapt"])
    code = ("import importlib.util; assert importlib.util.find_spec('opentelemetry.sdk') is None\n"
            "from opentelemetry.instrumentation.agents.testing.openai_server import text\n"
            "from opentelemetry.instrumentation.agents.testing import assert_tree\n")
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True,
                         env=without_otel_env(dict(os.environ)), timeout=60)
    assert out.returncode == 1
    assert out.stderr.strip().splitlines()[-1] == (
        "ImportError: opentelemetry.instrumentation.agents.testing needs the OpenTelemetry "
        "SDK (opentelemetry-sdk), which is not installed: "
        "pip install 'opentelemetry-instrumentation-agents[testing]'")
