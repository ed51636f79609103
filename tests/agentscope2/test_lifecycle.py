"""Instrument, uninstrument, twice, late, suppressed, beside AgentScope's own tracing."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from agentscope.agent import Agent
from agentscope.model import ChatModelBase
from agentscope.tool import ToolBase, Toolkit
from opentelemetry.instrumentation.utils import suppress_instrumentation

from opentelemetry.instrumentation.agents import AgentsInstrumentor
from opentelemetry.instrumentation.agents._patching import is_ours
from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel,
    call_tools,
    say,
)

from .support import TOOL_ROUND_TREE, get_weather, make_agent, user

PATCHED = [(Agent, "reply"), (Agent, "reply_stream"), (Agent, "_reasoning"),
           (Agent, "_handle_error_tool_call"), (ChatModelBase, "__call__"),
           (Toolkit, "call_tool"), (ToolBase, "__call__")]


def _script():
    return [call_tools(("get_weather", {"city": "Lima"})), say("done")]


def _originals():
    return {(cls, name): cls.__dict__[name] for cls, name in PATCHED}


async def test_agent_created_before_instrument_is_traced(provider, exporter, detector):
    agent = make_agent(ScriptedChatModel(_script()), [get_weather])
    instrumentor = AgentScopeInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        await agent.reply(user())
    finally:
        instrumentor.uninstrument()
    assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)
    detector.assert_all_ended()


async def test_uninstrument_restores_everything(provider, exporter):
    before = _originals()
    agent = make_agent(ScriptedChatModel(_script() + _script()), [get_weather])
    instrumentor = AgentScopeInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    assert all(is_ours(cls.__dict__[name]) for cls, name in PATCHED)
    await agent.reply(user())
    instrumentor.uninstrument()

    after = _originals()
    assert all(after[key] is before[key] for key in before), "every original is back"
    assert not any(is_ours(v) for v in vars(agent).values())
    assert not any(is_ours(v) for v in vars(agent.model).values())
    exporter.clear()
    await agent.reply(user())  # the same live agent, after uninstrument
    assert exporter.get_finished_spans() == ()


async def test_double_instrument_never_double_patches(provider, exporter, detector):
    first = AgentScopeInstrumentor()
    first.instrument(tracer_provider=provider)
    umbrella = AgentsInstrumentor()
    try:
        first.instrument(tracer_provider=provider)  # same singleton: a no-op
        umbrella.instrument(tracer_provider=provider)  # already done: skipped
        for cls, name in PATCHED:
            wrapper = cls.__dict__[name]
            assert is_ours(wrapper)
            assert not is_ours(wrapper.__wrapped__), f"{cls.__name__}.{name} wrapped twice"
        agent = make_agent(ScriptedChatModel(_script()), [get_weather])
        await agent.reply(user())
        assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)  # one span per call, not two
    finally:
        umbrella.uninstrument()
        first.uninstrument()
    assert not any(is_ours(cls.__dict__[name]) for cls, name in PATCHED)


async def test_umbrella_instruments_and_uninstruments(provider, exporter, detector):
    umbrella = AgentsInstrumentor()
    umbrella.instrument(tracer_provider=provider, runtimes=["agentscope"])
    try:
        assert AgentScopeInstrumentor().is_instrumented_by_opentelemetry
        agent = make_agent(ScriptedChatModel(_script()), [get_weather])
        await agent.reply(user())
    finally:
        umbrella.uninstrument()
    assert not AgentScopeInstrumentor().is_instrumented_by_opentelemetry
    assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)


async def test_reinstrument_after_uninstrument(provider, exporter):
    instrumentor = AgentScopeInstrumentor()
    for _ in range(2):
        instrumentor.instrument(tracer_provider=provider)
        await make_agent(ScriptedChatModel(_script()), [get_weather]).reply(user())
        instrumentor.uninstrument()
    assert len([s for s in exporter.get_finished_spans() if s.name.startswith("invoke")]) == 2


async def test_suppressed_instrumentation_emits_nothing(instrumented, exporter):
    agent = make_agent(ScriptedChatModel(_script()), [get_weather])
    with suppress_instrumentation():
        result = await agent.reply(user())
    assert result.get_text_content() == "done"
    assert exporter.get_finished_spans() == ()


def test_instrumenting_imports_no_runtime_module(tmp_path):
    code = textwrap.dedent("""
        import sys
        from opentelemetry.instrumentation.agents import AgentsInstrumentor
        AgentsInstrumentor().instrument()
        print(sorted(m for m in sys.modules if m == "agentscope" or m.startswith("agentscope.")))
        import agentscope.agent
        from agentscope.agent import Agent
        print(type(Agent.__dict__["reply"]).__name__)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=_env(tmp_path))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "[]", "instrument() imported AgentScope itself"
    assert lines[1] == "FunctionWrapper", "the import that came later was patched"


_MIDDLEWARE_SCRIPT = """
import asyncio, json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)  # what AgentScope's setup_tracing amounts to

if sys.argv[1] == "ours":
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
    AgentScopeInstrumentor().instrument()

from agentscope.agent import Agent
from agentscope.middleware import TracingMiddleware
from agentscope.tool import Toolkit
from opentelemetry.instrumentation.agents.testing.agentscope.model import (
    ScriptedChatModel, call_tools, say)
from tests.agentscope2.support import get_weather, tool, user

agent = Agent(name="helper", system_prompt="s", middlewares=[TracingMiddleware()],
              model=ScriptedChatModel([call_tools(("get_weather", {"city": "x"})), say("ok")]),
              toolkit=Toolkit(tools=[tool(get_weather)]))
asyncio.run(agent.reply(user()))
print(json.dumps([[s.name, s.instrumentation_scope.name] for s in exporter.get_finished_spans()]))
"""


def _env(home):
    import os

    env = dict(os.environ)
    env["HOME"] = str(home)
    return env


def _run_middleware_script(mode, tmp_path):
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", _MIDDLEWARE_SCRIPT, mode], capture_output=True,
                         text=True, timeout=120, cwd=root, env=_env(tmp_path))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_agentscope_tracing_middleware_adds_no_duplicates(tmp_path):
    # Without us, AgentScope's middleware traces this agent itself...
    theirs = _run_middleware_script("theirs", tmp_path)
    assert theirs and {scope for _, scope in theirs} == {"agentscope"}
    # ...with us, its hooks pass through and every span is ours, once.
    ours = _run_middleware_script("ours", tmp_path)
    assert {scope for _, scope in ours} == {"opentelemetry.instrumentation.agents"}
    assert sorted(name for name, _ in ours) == sorted([
        "invoke_agent helper", "react step", "react step", "chat scripted-model",
        "chat scripted-model", "execute_tool get_weather"])
