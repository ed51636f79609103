"""An AgentScope 2.x `A2AAgent` calling an agent served by an a2a-sdk server
subprocess (which fronts an AgentScope agent): one trace across both."""

from __future__ import annotations

import pytest
from a2a.types import AgentCapabilities, AgentCard, AgentInterface
from agentscope.agent import A2AAgent
from agentscope.message import UserMsg
from opentelemetry.trace import SpanKind, StatusCode

from opentelemetry.instrumentation.agents.testing import assert_tree
from tests.runtimes import instrumented_with

from .support import http_server


@pytest.fixture
def instrumented(host_provider):
    from opentelemetry.instrumentation.agents.a2a import A2AInstrumentor
    from opentelemetry.instrumentation.agents.agentscope import AgentScopeInstrumentor

    with instrumented_with(AgentScopeInstrumentor, host_provider), \
            instrumented_with(A2AInstrumentor, host_provider):
        yield host_provider


def _card(port: int) -> AgentCard:
    return AgentCard(
        name="forecaster", description="Forecasts the weather.", version="1.0.0",
        supported_interfaces=[AgentInterface(url=f"http://127.0.0.1:{port}/",
                                             protocol_binding="JSONRPC")],
        capabilities=AgentCapabilities(streaming=True),
        default_input_modes=["text/plain"], default_output_modes=["text/plain"])


def _is_remote_call(span) -> bool:
    return span.name == "invoke_agent forecaster" and span.kind is SpanKind.CLIENT


REMOTE_TREE = """
invoke_agent forecaster {agents.runtime=agentscope}
  invoke_agent forecaster {agents.runtime=agentscope}
    react step
      chat scripted-model
"""


async def test_remote_agent_continues_the_trace(instrumented, receiver, detector):
    with http_server("a2a_forecaster.py", receiver.traces_url) as (port, _process):
        async with A2AAgent(agent_card=_card(port)) as remote:
            reply = await remote.reply(UserMsg(name="user", content="weather tomorrow?"))
        assert reply.get_text_content() == "Rain tomorrow."
        spans = receiver.wait_for(lambda got: any(s.name == "react step" for s in got)
                                  and any(_is_remote_call(s) for s in got))

    assert len({s.context.trace_id for s in spans}) == 1
    tree = assert_tree(spans, REMOTE_TREE)
    client = tree.span
    assert client.kind is SpanKind.CLIENT
    assert client.attributes["server.address"] == "127.0.0.1"
    assert client.attributes["server.port"] == port
    assert client.attributes["gen_ai.operation.name"] == "invoke_agent"
    served = tree.children[0].span
    assert served.kind is SpanKind.INTERNAL
    assert served.resource.attributes["service.name"] == "a2a-forecaster"
    detector.assert_all_ended()


async def test_remote_agent_unreachable(instrumented, receiver, detector):
    from .support import free_port

    remote = A2AAgent(agent_card=_card(free_port()))
    with pytest.raises(Exception) as raised:
        await remote.reply(UserMsg(name="user", content="weather?"))
    await remote.aclose()
    spans = receiver.wait_for(count=1)
    client, = spans
    assert client.name == "invoke_agent forecaster"
    assert client.status.status_code is StatusCode.ERROR
    assert client.attributes["error.type"].endswith(type(raised.value).__qualname__)
    detector.assert_all_ended()


async def test_remote_agent_timing_out(instrumented, receiver, detector):
    import httpx
    from a2a.client import ClientConfig, ClientFactory

    with http_server("a2a_forecaster.py", receiver.traces_url) as (port, _process):
        card = _card(port)
        client = ClientFactory(ClientConfig(
            streaming=True, httpx_client=httpx.AsyncClient(timeout=1.0),
            supported_protocol_bindings=["JSONRPC"])).create(card)
        async with A2AAgent(agent_card=card, client=client) as remote:
            with pytest.raises(Exception) as raised:
                await remote.reply(UserMsg(name="user", content="slow forecast"))
        # The server finishes its (slow) agent after the client gave up; its
        # spans still join the trace, and end.
        spans = receiver.wait_for(lambda got: any(s.name == "react step" for s in got)
                                  and any(_is_remote_call(s) for s in got))
    clients = [s for s in spans if _is_remote_call(s)]
    assert len(clients) == 1, [(s.name, s.kind, dict(s.attributes)) for s in spans]
    client_span = clients[0]
    assert client_span.status.status_code is StatusCode.ERROR
    assert "Timeout" in client_span.attributes["error.type"], raised.value
    assert len({s.context.trace_id for s in spans}) == 1
    detector.assert_all_ended()


# The spans every streamed request gives, whatever a2a-sdk's event queue did
# in between (its enqueue/dequeue/deliver spans vary in number with timing).
STREAMED_SKELETON = """\
invoke_agent forecaster
  JsonRpcDispatcher.handle_requests
    JsonRpcDispatcher._process_streaming_request
      DefaultRequestHandlerV2.on_message_send_stream
      invoke_agent forecaster
        react step
          chat scripted-model"""
_SKELETON_NAMES = {"invoke_agent forecaster", "react step", "chat scripted-model",
                   "JsonRpcDispatcher.handle_requests",
                   "JsonRpcDispatcher._process_streaming_request",
                   "DefaultRequestHandlerV2.on_message_send_stream"}


def _short(span) -> str:
    # a2a-sdk names its spans by module path: the class and method are enough.
    return ".".join(span.name.split(".")[-2:]) if span.name.startswith("a2a.") else span.name


def _skeleton(root) -> str:
    """`root`'s tree cut down to the skeleton's spans (each under its nearest kept ancestor)."""
    lines: list[str] = []

    def walk(node, depth: int) -> None:
        kept = _short(node.span) in _SKELETON_NAMES
        if kept:
            lines.append("  " * depth + _short(node.span))
        for child in sorted(node.children, key=lambda c: (_short(c.span), c.span.start_time)):
            walk(child, depth + 1 if kept else depth)

    walk(root, 0)
    return "\n".join(lines)


async def test_a_streamed_request_keeps_a2a_sdk_spans_in_the_trace(instrumented, receiver,
                                                                    detector):
    """a2a-sdk's own spans on in the server: the SSE body runs after the dispatcher
    returned, and what it runs (the stream's ``EventQueueSource.remove_sink``)
    stays in the caller's trace instead of starting one of its own."""
    from opentelemetry.instrumentation.agents.testing import build_trees

    with http_server("a2a_forecaster.py", receiver.traces_url,
                     env={"OTEL_INSTRUMENTATION_A2A_SDK_ENABLED": "true"}) as (port, _process):
        async with A2AAgent(agent_card=_card(port)) as remote:
            reply = await remote.reply(UserMsg(name="user", content="weather tomorrow?"))
        assert reply.get_text_content() == "Rain tomorrow."
        # The stream's sink and the queue's own: both removed once the body ended.
        receiver.wait_for(lambda got: any(_is_remote_call(s) for s in got)
                          and sum(s.name.endswith(".remove_sink") for s in got) >= 2)
    spans = receiver.spans  # the server has stopped: everything it ended is here

    served = [s for s in spans if s.resource.attributes.get("service.name") == "a2a-forecaster"]
    assert any(s.name.endswith(".remove_sink") for s in served)
    assert len({s.context.trace_id for s in spans}) == 1
    roots = build_trees(spans)
    assert len(roots) == 1, [_short(r.span) for r in roots]  # no orphan on the server side
    root = roots[0]
    assert _is_remote_call(root.span)
    assert _skeleton(root) == STREAMED_SKELETON
    # Every a2a-sdk span of the server is in that one tree, the body's among them.
    ids = set()
    stack = [root]
    while stack:
        node = stack.pop()
        ids.add(node.span.context.span_id)
        stack.extend(node.children)
    assert {s.context.span_id for s in served} <= ids
    detector.assert_all_ended()
