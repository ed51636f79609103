"""Instrument, uninstrument (with calls in flight), twice, late, suppressed,
and beside AgentScope 1.x's own tracing decorators."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import agentscope.tool._toolkit as toolkit_module
import agentscope.tracing._trace as trace_module
from agentscope.agent import AgentBase, ReActAgent
from agentscope.model import (
    AnthropicChatModel,
    ChatModelBase,
    DashScopeChatModel,
    GeminiChatModel,
    OllamaChatModel,
    OpenAIChatModel,
)
from agentscope.tool import Toolkit, ToolResponse
from opentelemetry.instrumentation.utils import suppress_instrumentation

from opentelemetry.instrumentation.agents import AgentsInstrumentor
from opentelemetry.instrumentation.agents._patching import is_ours
from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
from opentelemetry.instrumentation.agents.agentscope.v1 import agent as _v1
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel,
    call_tools,
    say,
)

from .support import TOOL_ROUND_TREE, get_weather, make_agent, text_result, user
from .test_hooks import NONE, ONE_EACH, ours

PATCHED = [(AgentBase, "__call__"), (ReActAgent, "reply"), (ReActAgent, "_reasoning"),
           (ReActAgent, "_summarizing"), (Toolkit, "call_tool_function"),
           (ScriptedChatModel, "__call__"), (OpenAIChatModel, "__call__"),
           (AnthropicChatModel, "__call__"), (DashScopeChatModel, "__call__"),
           (GeminiChatModel, "__call__"), (OllamaChatModel, "__call__"),
           (toolkit_module, "TextBlock"), (trace_module, "_check_tracing_enabled")]


def _script():
    return [call_tools(("get_weather", {"city": "Lima"})), say("done")]


def _originals():
    return {(owner, name): vars(owner)[name] for owner, name in PATCHED}


async def test_agent_created_before_instrument_is_traced(provider, exporter, detector):
    agent = make_agent(ScriptedChatModel(_script()), [get_weather])
    instrumentor = AgentScopeInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        await agent(user())
    finally:
        instrumentor.uninstrument()
    assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)
    detector.assert_all_ended()


async def test_uninstrument_removes_hooks_from_live_agents_and_restores_everything(
        provider, exporter, detector):
    before = _originals()
    assert not any(is_ours(v) for v in before.values())
    release = asyncio.Event()
    arrived = asyncio.Event()

    async def wait_here(city: str) -> ToolResponse:
        """Wait for the test.

        Args:
            city (`str`): A city.
        """
        arrived.set()
        await asyncio.wait_for(release.wait(), 10)
        return text_result("ok")

    agent = make_agent(ScriptedChatModel([call_tools(("wait_here", {"city": "x"})), say("done"),
                                          say("again")]), [wait_here])
    instrumentor = AgentScopeInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    assert all(is_ours(vars(owner)[name]) for owner, name in PATCHED)

    task = asyncio.create_task(agent(user()))
    await asyncio.wait_for(arrived.wait(), 5)
    assert ours(agent) == ONE_EACH  # in flight: our hooks are on the agent
    instrumentor.uninstrument()
    assert ours(agent) == NONE, "uninstrument took our hooks off the live agent"
    assert len(_v1.REGISTRY) == 0
    after = _originals()
    assert all(after[key] is before[key] for key in before), "every original is back"

    release.set()
    result = await asyncio.wait_for(task, 5)  # the call in flight still completes
    assert result.get_text_content() == "done"
    detector.assert_all_ended()
    assert ours(agent) == NONE

    exporter.clear()
    await agent(user())  # the same live agent, after uninstrument
    assert exporter.get_finished_spans() == ()
    assert ours(agent) == NONE


async def test_double_instrument_never_double_patches(provider, exporter, detector):
    first = AgentScopeInstrumentor()
    first.instrument(tracer_provider=provider)
    umbrella = AgentsInstrumentor()
    try:
        first.instrument(tracer_provider=provider)  # same singleton: a no-op
        umbrella.instrument(tracer_provider=provider)  # already done: skipped
        for owner, name in PATCHED:
            wrapper = vars(owner)[name]
            assert is_ours(wrapper)
            assert not is_ours(wrapper.__wrapped__), f"{owner.__name__}.{name} wrapped twice"
        agent = make_agent(ScriptedChatModel(_script()), [get_weather])
        await agent(user())
        assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)  # one span per call, not two
    finally:
        umbrella.uninstrument()
        first.uninstrument()
    assert not any(is_ours(vars(owner)[name]) for owner, name in PATCHED)


async def test_reinstrument_after_uninstrument(provider, exporter, detector):
    instrumentor = AgentScopeInstrumentor()
    agent = make_agent(ScriptedChatModel(_script() * 2), [get_weather])
    for _ in range(2):
        instrumentor.instrument(tracer_provider=provider)
        await agent(user())
        instrumentor.uninstrument()
        assert ours(agent) == NONE
    invocations = [s for s in exporter.get_finished_spans() if s.name.startswith("invoke")]
    assert len(invocations) == 2
    detector.assert_all_ended()


async def test_model_class_defined_after_instrument(instrumented, exporter, detector):
    class LateModel(ChatModelBase):
        def __init__(self):
            super().__init__("late-model", False)

        async def __call__(self, messages, **kwargs):
            from agentscope.message import TextBlock
            from agentscope.model import ChatResponse

            return ChatResponse(content=[TextBlock(type="text", text="late")])

    assert not is_ours(vars(LateModel)["__call__"])
    agent = make_agent(LateModel())
    result = await agent(user())
    assert result.get_text_content() == "late"
    assert is_ours(vars(LateModel)["__call__"])  # wrapped when an agent first used it
    assert_tree(exporter.get_finished_spans(), """
        invoke_agent helper
          react step {gen_ai.react.finish_reason=stop}
            chat late-model
    """)
    detector.assert_all_ended()


async def test_suppressed_instrumentation_emits_nothing(instrumented, exporter):
    agent = make_agent(ScriptedChatModel(_script()), [get_weather])
    with suppress_instrumentation():
        result = await agent(user())
    assert result.get_text_content() == "done"
    assert exporter.get_finished_spans() == ()
    assert ours(agent) == NONE


def _env(home):
    env = dict(os.environ)
    env["HOME"] = str(home)
    env["AGENTSCOPE_DISABLE_CONSOLE_OUTPUT"] = "true"
    return env


ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_instrumenting_imports_no_runtime_module(tmp_path):
    code = textwrap.dedent("""
        import sys
        from opentelemetry.instrumentation.agents import AgentsInstrumentor
        AgentsInstrumentor().instrument()
        print(sorted(m for m in sys.modules if m == "agentscope" or m.startswith("agentscope.")))
        import agentscope.agent
        from agentscope.agent import AgentBase, ReActAgent
        from agentscope.model import OpenAIChatModel
        print(type(AgentBase.__dict__["__call__"]).__name__,
              type(ReActAgent.__dict__["_reasoning"]).__name__,
              type(OpenAIChatModel.__dict__["__call__"]).__name__)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=_env(tmp_path))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "[]", "instrument() imported AgentScope itself"
    assert lines[1] == "FunctionWrapper FunctionWrapper FunctionWrapper", \
        "the import that came later was patched"


_TRACING_SCRIPT = """
import asyncio, json
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)  # what AgentScope's setup_tracing amounts to

import agentscope
from agentscope.message import TextBlock
from agentscope.tool import ToolResponse
from agentscope.tracing import trace as agentscope_trace

agentscope._config.trace_enabled = True  # what agentscope.init(tracing_url=...) turns on

from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor
from opentelemetry.instrumentation.agents.testing.agentscope.model_v1 import (
    ScriptedChatModel, call_tools, say)
from tests.agentscope1.support import make_agent, user


@agentscope_trace("lookup_city")
def lookup_city(city):
    return city.upper()


def get_weather(city: str) -> ToolResponse:
    \"\"\"Report the weather.

    Args:
        city (`str`): A city.
    \"\"\"
    return ToolResponse(content=[TextBlock(type="text", text=lookup_city(city))])


def run():
    exporter.clear()
    agent = make_agent(ScriptedChatModel([call_tools(("get_weather", {"city": "x"})),
                                          say("ok")]), [get_weather])
    asyncio.run(agent(user()))
    spans = exporter.get_finished_spans()
    names = {s.context.span_id: s.name for s in spans}
    return sorted([s.name, s.instrumentation_scope.name,
                   names.get(s.parent.span_id) if s.parent else None] for s in spans)


theirs = run()
AgentScopeInstrumentor().instrument()
ours = run()
AgentScopeInstrumentor().uninstrument()
print(json.dumps({"theirs": theirs, "ours": ours, "theirs_again": run()}))
"""


def test_agentscope_tracing_decorators_add_no_duplicates(tmp_path):
    out = subprocess.run([sys.executable, "-c", _TRACING_SCRIPT], capture_output=True,
                         text=True, timeout=120, cwd=ROOT, env=_env(tmp_path))
    assert out.returncode == 0, out.stderr
    runs = {mode: [tuple(row) for row in rows]
            for mode, rows in json.loads(out.stdout.strip().splitlines()[-1]).items()}
    # Without us, AgentScope's decorators trace the agent, model and tool calls...
    theirs = runs["theirs"]
    assert {scope for _, scope, _ in theirs} == {"agentscope"}
    assert {name for name, _, _ in theirs} >= {
        "invoke_agent helper", "chat scripted-model", "execute_tool get_weather"}
    # ...with us, those three are ours, once each; what we do not trace
    # (formatting, the application's own @trace functions) stays AgentScope's,
    # nested in our tree.
    lib = "opentelemetry.instrumentation.agents"
    assert runs["ours"] == sorted([
        ("invoke_agent helper", lib, None),
        ("react step", lib, "invoke_agent helper"),
        ("react step", lib, "invoke_agent helper"),
        ("chat scripted-model", lib, "react step"),
        ("chat scripted-model", lib, "react step"),
        ("execute_tool get_weather", lib, "react step"),
        ("invoke_generic_function lookup_city", "agentscope", "execute_tool get_weather"),
        ("format openai", "agentscope", "invoke_agent helper"),
        ("format openai", "agentscope", "invoke_agent helper"),
    ])
    # After uninstrument AgentScope's own tracing is back as it was.
    assert runs["theirs_again"] == theirs
