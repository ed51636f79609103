"""Instrument, uninstrument, twice, before PraisonAI is imported, suppressed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from opentelemetry.instrumentation.utils import suppress_instrumentation

from opentelemetry.instrumentation.agents._patching import is_ours
from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor
from opentelemetry.instrumentation.agents.testing import assert_tree
from opentelemetry.instrumentation.agents.testing.openai_server import (
    ToolCall,
    text,
    tool_calls,
)

from .support import TOOL_ROUND_TREE, make_agent


def _patched():
    import litellm
    from openai.resources.chat.completions.completions import AsyncCompletions, Completions
    from praisonaiagents.agent.agent import Agent
    from praisonaiagents.agent.chat_mixin import ChatMixin
    from praisonaiagents.agent.execution_mixin import ExecutionMixin
    from praisonaiagents.agent.tool_execution import ToolExecutionMixin
    from praisonaiagents.agents.agents import AgentTeam
    from praisonaiagents.knowledge.knowledge import Knowledge
    from praisonaiagents.lite import LiteAgent
    from praisonaiagents.llm.llm import LLM
    from praisonaiagents.llm.openai_client import OpenAIClient
    from praisonaiagents.memory.file_memory import FileMemory
    from praisonaiagents.task.task import Task
    from praisonaiagents.workflows.workflows import AgentFlow

    return [
        (ChatMixin, "chat"), (ChatMixin, "achat"), (ChatMixin, "_start_stream"),
        (ExecutionMixin, "start"), (ExecutionMixin, "execute_tool_async"),
        (ToolExecutionMixin, "execute_tool"),
        (OpenAIClient, "acreate_completion"), (OpenAIClient, "create_completion"),
        (OpenAIClient, "process_stream_response_async"),
        (OpenAIClient, "process_stream_response"),
        (OpenAIClient, "achat_completion_with_tools"),
        (OpenAIClient, "chat_completion_with_tools"),
        (Completions, "create"), (AsyncCompletions, "create"),
        (LLM, "_completion_with_retry"), (LLM, "_acompletion_with_retry"),
        (LLM, "_call_responses_api"), (LLM, "_call_responses_api_async"),
        (LLM, "_stream_responses_api"), (LLM, "_stream_responses_api_async"),
        (litellm, "responses"), (litellm, "aresponses"),
        (AgentTeam, "start"), (AgentTeam, "astart"),
        (LiteAgent, "chat"), (LiteAgent, "execute_tool"),
        (AgentFlow, "run"), (AgentFlow, "_normalize_single_step"),
        (Agent, "_process_guardrail"), (Agent, "_record_guardrail_retry"),
        (Task, "_process_guardrail"), (Knowledge, "search"), (FileMemory, "search"),
    ]


def _script():
    return [tool_calls([ToolCall("get_weather", {"city": "Lima"})]), text("sunny")]


def test_uninstrument_restores_every_patched_callable(provider, exporter, serve):
    from praisonaiagents.lite import LiteAgent

    serve(_script() * 2)
    patched = _patched()
    before = {(cls, name): cls.__dict__[name] for cls, name in patched}
    lite_before = dict(LiteAgent.__dict__)
    agent = make_agent()
    lite = LiteAgent(name="lite", llm_fn=lambda messages: "pong")

    instrumentor = PraisonAIInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    assert all(is_ours(cls.__dict__[name]) for cls, name in patched)
    assert "llm_fn" in LiteAgent.__dict__
    agent.chat("hi")
    lite.chat("ping")
    assert exporter.get_finished_spans()
    instrumentor.uninstrument()

    assert {key: key[0].__dict__[key[1]] for key in before} == before
    assert all(key[0].__dict__[key[1]] is value for key, value in before.items())
    assert dict(LiteAgent.__dict__) == lite_before
    assert not any(is_ours(v) for v in vars(agent).values())
    exporter.clear()
    # The same live objects, after uninstrument: PraisonAI as if never touched.
    assert agent.chat("hi") == "sunny"
    assert lite.chat("ping") == "pong"
    assert list(agent.start("hi", stream=True))
    assert exporter.get_finished_spans() == ()


def test_double_instrument_never_double_patches(provider, exporter, serve, detector):
    serve(_script())
    first = PraisonAIInstrumentor()
    first.instrument(tracer_provider=provider)
    try:
        PraisonAIInstrumentor().instrument(tracer_provider=provider)  # singleton: a no-op
        for cls, name in _patched():
            wrapper = cls.__dict__[name]
            assert is_ours(wrapper)
            assert not is_ours(wrapper.__wrapped__), f"{cls.__name__}.{name} wrapped twice"
        make_agent().chat("hi")
        assert_tree(exporter.get_finished_spans(), TOOL_ROUND_TREE)
    finally:
        first.uninstrument()
    detector.assert_all_ended()


def test_reinstrument_after_uninstrument(provider, exporter, serve):
    serve(_script())
    instrumentor = PraisonAIInstrumentor()
    for _ in range(2):
        instrumentor.instrument(tracer_provider=provider)
        make_agent().chat("hi")
        instrumentor.uninstrument()
    agents = [s for s in exporter.get_finished_spans() if s.name.startswith("invoke_agent")]
    assert len(agents) == 2


def test_suppressed_instrumentation_emits_nothing(instrumented, exporter, serve):
    serve(_script())
    with suppress_instrumentation():
        assert make_agent().chat("hi") == "sunny"
    assert exporter.get_finished_spans() == ()


def test_instrument_first_patches_praisonai_when_the_app_imports_it(tmp_path, serve):
    server = serve(_script())
    code = textwrap.dedent("""
        import sys
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import (
            InMemorySpanExporter)
        from opentelemetry.instrumentation.agents.praisonai import PraisonAIInstrumentor

        exporter = InMemorySpanExporter()
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        PraisonAIInstrumentor().instrument(tracer_provider=provider)
        print(sorted(m for m in sys.modules if m.split(".")[0] == "praisonaiagents"))

        def get_weather(city: str) -> str:
            '''Report the weather.'''
            return "sunny in " + city

        from praisonaiagents import Agent  # PraisonAI loads its modules lazily
        Agent(name="helper", instructions="x", tools=[get_weather], model="gpt-4o-mini",
              retry=False).chat("hi")
        print(sorted(s.name for s in exporter.get_finished_spans()))
    """)
    env = dict(os.environ, HOME=str(tmp_path), OPENAI_BASE_URL=server.base_url)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120, cwd=tmp_path, env=env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0] == "[]", "instrument() imported PraisonAI itself"
    assert lines[-1] == str(sorted(["invoke_agent helper", "react step", "react step",
                                    "chat gpt-4o-mini", "chat gpt-4o-mini",
                                    "execute_tool get_weather"]))


async def test_without_an_sdk_praisonai_runs_as_usual(serve):
    from praisonaiagents import AgentTeam, Task
    from praisonaiagents.lite import LiteAgent

    serve({"c1": _script(), "c2": _script(), "c3": _script(), "t": _script()})
    instrumentor = PraisonAIInstrumentor()
    instrumentor.instrument()  # no tracer provider: the wrappers step aside
    try:
        agent = make_agent()
        assert agent.chat("hi [conv:c1]") == "sunny"
        assert await agent.achat("hi [conv:c2]") == "sunny"
        assert "".join(agent.start("hi [conv:c3]", stream=True)) == "sunny"
        task = Task(description="[conv:t] Go.", expected_output="x", agent=make_agent())
        assert AgentTeam(agents=[task.agent], tasks=[task]).start() == "sunny"
        assert LiteAgent(llm_fn=lambda messages: "pong").chat("ping") == "pong"
    finally:
        instrumentor.uninstrument()
