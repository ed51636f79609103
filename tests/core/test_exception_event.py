"""A span that ends because of an exception records it: the conventions'
`exception` event (type, message, stack trace), bounded in size."""

from __future__ import annotations

from opentelemetry.instrumentation.agents import _exceptions

from .contract import TRUNCATION_MARK


class DeepError(Exception):
    pass


def _raise_deep(depth: int, message: str) -> None:
    if depth == 0:
        raise DeepError(message)
    _raise_deep(depth - 1, message)


def _caught(depth: int = 3, message: str = "the tool broke") -> BaseException:
    try:
        _raise_deep(depth, message)
    except DeepError as exc:
        return exc
    raise AssertionError("unreachable")


def _event(span):
    (event,) = [e for e in span.events if e.name == "exception"]
    return dict(event.attributes)


def test_a_failed_tool_records_its_exception(tel):
    handler = tel.handler()
    error = _caught()
    inv = handler.start_tool("lookup")
    handler.finish_tool(inv, error=error)
    attrs = _event(tel.span("execute_tool lookup"))
    assert attrs["exception.type"] == f"{__name__}.DeepError"
    assert attrs["exception.message"] == "the tool broke"
    stack = attrs["exception.stacktrace"]
    assert stack.startswith("Traceback") and "_raise_deep" in stack
    assert stack.rstrip().endswith("DeepError: the tool broke")


def test_every_span_the_exception_ends_records_it(tel):
    handler = tel.handler()
    error = _caught()
    frame = handler.start_agent(object(), "helper")
    inv = handler.start_chat(request_model="m")  # outside the agent's context: a root
    handler.finish_chat(inv, error=error)
    handler.finish_agent(frame, error=error)
    for name in ("chat m", "invoke_agent helper"):
        assert _event(tel.span(name))["exception.type"].endswith("DeepError")


def test_bounded_however_deep_and_long():
    class Span:
        def __init__(self):
            self.events = []

        def add_event(self, name, attributes):
            self.events.append((name, attributes))

    span = Span()
    _exceptions.record(span, _caught(depth=500, message="m" * 1_000_000))
    ((name, attrs),) = span.events
    assert name == "exception"
    assert len(attrs["exception.message"]) == _exceptions.MESSAGE_LIMIT
    assert attrs["exception.message"].endswith(TRUNCATION_MARK)
    stack = attrs["exception.stacktrace"]
    assert len(stack) <= _exceptions.STACK_LIMIT
    # The innermost frames are what is kept; the cut is marked at the start.
    assert stack.startswith(TRUNCATION_MARK)
    assert stack.count("in _raise_deep") <= _exceptions.STACK_FRAMES


def test_a_success_and_an_error_type_without_exception_record_no_event(tel):
    handler = tel.handler()
    ok = handler.start_tool("fine")
    handler.finish_tool(ok, result="x")
    said = handler.start_tool("reported")
    handler.finish_tool(said, error_type="tool_error")
    assert not tel.span("execute_tool fine").events
    assert not tel.span("execute_tool reported").events


def test_a_stream_closed_early_records_no_exception(tel):
    handler = tel.handler()
    inv = handler.start_chat(request_model="m", stream=True)
    handler.finish_chat(inv, error=GeneratorExit())
    assert not tel.span("chat m").events


def test_a_broken_str_still_records_type_and_stack(tel):
    class Broken(Exception):
        def __str__(self):
            raise RuntimeError("no str")

    handler = tel.handler()
    try:
        raise Broken
    except Broken as exc:
        error = exc
    inv = handler.start_tool("lookup")
    handler.finish_tool(inv, error=error)
    attrs = _event(tel.span("execute_tool lookup"))
    assert attrs["exception.type"].endswith("Broken")
    assert "exception.message" not in attrs
