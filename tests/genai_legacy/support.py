"""What the openai-v2 tests share: its instrumentor and scope, and the checks
every runtime's test makes."""

from __future__ import annotations

from typing import Any

from tests.genai_stack.support import chat_spans, scopes, server_tokens, token_sums

# openai-v2 makes its chat spans through util-genai's handler (util-genai
# 1.1b0 always takes its "latest experimental" path), under that scope.
SCOPE = "opentelemetry.util.genai.handler"
ORDERS = {"ours-first": True, "openai-v2-first": False}


def openai_v2() -> type:
    from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor

    return OpenAIInstrumentor


def assert_counted_once(exporter: Any, reader: Any, requests: int, script: Any) -> list[Any]:
    """One chat span per request (openai-v2's), tokens counted once; returns
    the chat spans."""
    chats = chat_spans(exporter)
    assert scopes(chats) == [SCOPE] * requests
    assert token_sums(reader) == server_tokens(script)
    return chats


def agent_usage(exporter: Any) -> tuple[int, int]:
    """The token counts on our agent span."""
    (agent,) = [s for s in exporter.get_finished_spans()
                if (s.attributes or {}).get("gen_ai.operation.name") == "invoke_agent"]
    return (agent.attributes["gen_ai.usage.input_tokens"],
            agent.attributes["gen_ai.usage.output_tokens"])
