"""A scripted model server (OpenAI and Anthropic APIs) for offline tests.

Agents that talk to an LLM through the ``openai`` or ``anthropic`` client (or
any client speaking one of those APIs, such as LiteLLM) can be run in CI
against this server instead of a real provider. Every response comes from a
script written by the test, so the agent's behaviour, and the telemetry it
produces, is reproducible.

Usage::

    from openai import OpenAI
    from opentelemetry.instrumentation.agents.testing.openai_server import (
        ScriptedOpenAIServer, ToolCall, text, tool_calls,
    )

    script = [
        tool_calls([ToolCall("get_weather", {"city": "Paris"})]),
        text("It is sunny in Paris ({conv})."),
    ]
    with ScriptedOpenAIServer(script) as server:
        client = OpenAI(api_key="test", base_url=server.base_url)
        ...  # run the agent; the first user message contains "[conv:abc]"
        assert len(server.requests_for("abc")) == 2

How a request is matched to a response:

* The *conversation* is the first match of ``conversation_pattern`` (by
  default ``[conv:<id>]``) in the text of the request's messages, in message
  order. Requests without a marker belong to the default conversation.
* The *turn* is the number of model turns already in the request: assistant
  messages (chat completions, Anthropic Messages), or runs of model output
  items (Responses; plus the turns of a ``previous_response_id`` it
  continues). See `turn_index`. Both are derived from the request alone,
  never from arrival order or a counter, so any number of conversations can
  run concurrently against one server, and a retried request gets the same
  response as the original.

Served endpoints: ``POST /v1/chat/completions`` (OpenAI chat completions),
``POST /v1/messages`` (Anthropic Messages; point the client at
`ScriptedOpenAIServer.anthropic_base_url`), ``POST /v1/responses`` (OpenAI
Responses); each answers JSON, or that API's server-sent events when the
request has ``"stream": true``. Also ``GET /v1/models`` and
``GET /v1/models/{id}``. Everything else gets a 404 in OpenAI's error shape.
"""

from __future__ import annotations

from .scripted_server.chat_completions import turn_index
from .scripted_server.server import ScriptedOpenAIServer
from .scripted_server.turns import (
    DEFAULT_CONVERSATION_PATTERN,
    Responder,
    ToolCall,
    Turn,
    error,
    text,
    tool_calls,
)

__all__ = [
    "DEFAULT_CONVERSATION_PATTERN",
    "Responder",
    "ScriptedOpenAIServer",
    "ToolCall",
    "Turn",
    "error",
    "text",
    "tool_calls",
    "turn_index",
]
