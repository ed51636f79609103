"""Content cost bounded by the length limit: a long history is converted and
serialized only as far as the limit lets it through, and the text recorded is
exactly what converting and serializing all of it, then cutting, would give.

Runtime-independent (the converters read plain dicts and duck-typed
messages), so these run in both environments. The messages count how often
they are read: a message never read was never converted.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from opentelemetry.instrumentation.agents import _content, _settings
from opentelemetry.instrumentation.agents import _genai_messages as M
from opentelemetry.instrumentation.agents._content import (
    render,
    render_structured,
    to_json,
)
from opentelemetry.instrumentation.agents.agentscope.v1 import messages as v1
from opentelemetry.instrumentation.agents.agentscope.v2 import messages as v2
from opentelemetry.instrumentation.agents.hermes import _messages as hermes
from opentelemetry.instrumentation.agents.praisonai import _messages as praisonai

from .support import assert_cut_in_shape

KEY = "gen_ai.input.messages"


class Counted(dict):
    """An OpenAI-format message that notes its index in `visited` when read."""

    def __init__(self, index: int, visited: list[int], **fields: Any) -> None:
        super().__init__(**fields)
        self.index = index
        self.visited = visited

    def get(self, *args: Any) -> Any:
        if not self.visited or self.visited[-1] != self.index:
            self.visited.append(self.index)
        return super().get(*args)


class Msg:
    """Duck-typed AgentScope `Msg` (what the converters read), counting reads."""

    def __init__(self, index: int, visited: list[int], role: str, text: str) -> None:
        self.index, self.visited, self.role, self.name, self._text = (
            index, visited, role, role, text)

    @property
    def content(self) -> str:
        if not self.visited or self.visited[-1] != self.index:
            self.visited.append(self.index)
        return self._text


def _text(i: int) -> str:
    return f"turn {i}: " + "tell me more about it " * (i % 4)


def openai_history(n: int, visited: list[int]) -> list[Any]:
    return [{"role": "system", "content": "You help."}] + [
        Counted(i, visited, role="user" if i % 2 == 0 else "assistant", content=_text(i))
        for i in range(n)]


def msg_history(n: int, visited: list[int]) -> list[Any]:
    return [Msg(i, visited, "user" if i % 2 == 0 else "assistant", _text(i)) for i in range(n)]


def _fitting(messages: list[dict[str, Any]], limit: int) -> int:
    """How many messages serializing under `limit` has to convert: up to and
    including the one that takes the JSON text past the limit."""
    size = 1  # "["
    for count, message in enumerate(messages, 1):
        size += len(_content._dumps(message)) + (count > 1)
        if size > limit:
            return count
    return len(messages)


# (name, lazy converter of a history, eager reference converter of the same history)
OPENAI_CONVERTERS = [
    ("hermes.request", lambda h: hermes.request({"messages": h}), M.openai_request),
    ("hermes.messages", hermes.messages, M.openai_request),
    ("praisonai.request", praisonai.request, M.openai_request),
    ("agentscope1.convert_prompt", v1.convert_prompt, M.openai_request),
]


@pytest.mark.parametrize("limit", [100, _settings.DEFAULT_MAX_LENGTH])
@pytest.mark.parametrize("n", [1_000, 10_000])
@pytest.mark.parametrize(("name", "lazy", "eager"), OPENAI_CONVERTERS,
                         ids=[c[0] for c in OPENAI_CONVERTERS])
def test_long_openai_history_is_cut_and_read_only_as_far_as_it_fits(name, lazy, eager, n,
                                                                      limit):
    visited: list[int] = []
    history = openai_history(n, visited)
    reference, reference_system = eager(history)
    expected = to_json(reference, limit)
    visited.clear()

    inputs, system = lazy(history)
    assert system == reference_system == [{"type": "text", "content": "You help."}]
    # Only the first message after the instructions was read, to know where they end.
    assert visited == [0]

    text = render("chat", KEY, inputs, limit)

    # The eager text, cut inside its messages: still JSON of their shape.
    assert text == expected
    assert_cut_in_shape(text, limit)
    # Read: exactly the prefix that serializing up to the limit needs.
    assert visited == list(range(_fitting(reference, limit)))
    assert len(visited) < n / 10


@pytest.mark.parametrize("limit", [100, _settings.DEFAULT_MAX_LENGTH])
@pytest.mark.parametrize("n", [1_000, 10_000])
def test_long_agentscope2_history_is_cut_and_read_only_as_far_as_it_fits(n, limit):
    visited: list[int] = []
    history = [Msg(-1, [], "system", "You help."), *msg_history(n, visited)]
    reference = v2.convert(history[1:])
    expected = to_json(reference, limit)
    visited.clear()

    inputs, system = v2.request(history)
    assert system == [{"type": "text", "content": "You help."}]
    assert visited == [0]
    text = render("chat", KEY, inputs, limit)

    assert text == expected
    assert_cut_in_shape(text, limit)
    assert visited == list(range(_fitting(reference, limit)))


@pytest.mark.parametrize("module", [v2, v1], ids=["agentscope2", "agentscope1"])
def test_agent_input_of_many_messages_is_read_only_as_far_as_it_fits(module):
    visited: list[int] = []
    history = msg_history(10_000, visited)
    reference = module.convert(history)
    expected = to_json(reference, 500)
    visited.clear()

    text = render("agent", KEY, module.agent_input(history), 500)

    assert text == expected
    assert_cut_in_shape(text, 500)
    assert visited == list(range(_fitting(reference, 500)))


SAMPLES = [
    [],
    [{"role": "system", "content": "only instructions"}],
    [{"role": "user", "content": "hi"}],
    [{"role": "system", "content": "Be brief."},
     {"role": "developer", "content": [{"type": "text", "text": "Metric units."}]},
     {"role": "user", "content": [{"type": "text", "text": "Weather?"},
                                  {"type": "image_url", "image_url": {"url": "https://x/c.png"}}]},
     {"role": "assistant", "content": None, "reasoning_content": "Let me look.",
      "tool_calls": [{"id": "c1", "type": "function",
                      "function": {"name": "lookup", "arguments": '{"q": "Lima"}'}}]},
     {"role": "tool", "tool_call_id": "c1", "content": "sunny \u00e9\u00e8 \"quoted\""},
     {"role": "system", "content": "A reminder in the middle stays in the history."}],
    [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
     {"type": "function_call", "call_id": "f1", "name": "g", "arguments": '{"a":1}'},
     {"type": "function_call_output", "call_id": "f1", "output": "ok"}],
    "a bare prompt",
]


@pytest.mark.parametrize("limit", [1, 14, 15, 40, 120, 300, _settings.DEFAULT_MAX_LENGTH])
@pytest.mark.parametrize("sample", range(len(SAMPLES)))
def test_same_text_as_converting_everything(sample, limit):
    """Under the limit or cut, the text is the one the eager converter gives."""
    messages = SAMPLES[sample]
    for system in (None, "Instructions beside the messages."):
        lazy_inputs, lazy_system = M.lazy_openai_request(messages, system)
        eager_inputs, eager_system = M.openai_request(messages, system)
        assert lazy_system == eager_system
        assert bool(lazy_inputs) == bool(eager_inputs)
        assert (render("chat", KEY, lazy_inputs, limit)
                == render("chat", KEY, eager_inputs, limit))
        assert (render_structured("chat", KEY, lazy_inputs, limit)
                == render_structured("chat", KEY, eager_inputs, limit))
        if eager_inputs is not None:
            assert list(lazy_inputs) == eager_inputs


def test_event_content_of_a_long_history_is_the_cut_value():
    """Structured, as an uncut value is: the messages cut inside their texts."""
    visited: list[int] = []
    inputs, _ = praisonai.request(openai_history(10_000, visited))
    value = render_structured("chat", KEY, inputs, 300)
    assert isinstance(value, list)
    assert_cut_in_shape(_content._dumps(value), 300)
    assert len(visited) < 20


def test_short_history_as_structured_event_value():
    inputs, _ = praisonai.request([{"role": "user", "content": "hi"}])
    assert render_structured("chat", KEY, inputs, 300) == [
        {"role": "user", "parts": [{"type": "text", "content": "hi"}]}]


def test_a_hook_sees_the_whole_history():
    seen = []

    def hook(kind, key, value):
        seen.append(len(value))
        return value[-1:]

    _content.set_content_hook(hook)
    visited: list[int] = []
    inputs, _ = hermes.messages(openai_history(1_000, visited))
    text = render("chat", KEY, inputs, 8192)
    assert seen == [1_000]
    assert json.loads(text) == [{"role": "assistant",
                                 "parts": [{"type": "text", "content": _text(999)}]}]


def test_an_unreadable_message_deep_in_a_history_drops_only_the_attribute(caplog):
    class Unreadable(Counted):
        def get(self, *args: Any) -> Any:
            raise RuntimeError("a message that cannot be read")

    visited: list[int] = []
    history = openai_history(10, visited)
    history[6] = Unreadable(5, visited, role="user")
    inputs, system = praisonai.request(history)
    assert system == [{"type": "text", "content": "You help."}]
    with caplog.at_level(logging.WARNING, logger="opentelemetry.instrumentation.agents"):
        assert render("chat", KEY, inputs, 8192) is None
        assert render_structured("chat", KEY, inputs, 8192) is None
    assert any("converting content" in r.getMessage() for r in caplog.records)
    # Past the limit the unreadable message is never reached: recorded, cut.
    text = render("chat", KEY, inputs, 100)
    assert_cut_in_shape(text, 100)


def _random_messages(rng) -> list[dict[str, Any]]:
    alphabet = 'ab "\\\n\u00e9\u2028\U0001f600'
    return [{"role": rng.choice(["user", "assistant", "tool"]),
             "parts": [{"type": "text",
                        "content": "".join(rng.choice(alphabet)
                                           for _ in range(rng.randint(0, 400)))}
                       for _ in range(rng.randint(1, 3))]}
            for _ in range(rng.randint(1, 5))]


def test_a_cut_value_stays_json_of_the_same_shape():
    """Whatever the texts (escapes, non-ASCII) and the limit: at most the limit,
    JSON, the messages' shape (roles and part types as given, a prefix of the
    messages), every cut text marked; under the limit, the text unchanged."""
    import random

    rng = random.Random(20)
    for _ in range(2000):
        messages = _random_messages(rng)
        limit = rng.randint(300, 3000)  # room for one message's shape, each text marked
        whole = to_json(messages, 1 << 62)
        text = to_json(messages, limit)
        if len(whole) <= limit:
            assert text == whole
            continue
        value = assert_cut_in_shape(text, limit)
        assert len(value) <= len(messages)
        for got, sent in zip(value, messages, strict=False):
            assert got["role"] == sent["role"]
            assert [p["type"] for p in got["parts"]] == [p["type"] for p in sent["parts"]]
            for part, original in zip(got["parts"], sent["parts"], strict=True):
                if part["content"] != original["content"]:
                    assert part["content"].endswith(_content.TRUNCATION_MARK)
                    kept = part["content"][:-len(_content.TRUNCATION_MARK)]
                    assert original["content"].startswith(kept)


def test_one_huge_text_is_cut_inside_its_message():
    huge = [{"role": "user", "parts": [{"type": "text", "content": "x" * 5_000_000}]},
            {"role": "assistant", "parts": [{"type": "text", "content": "ok"}]}]
    text = render("chat", KEY, huge, 200)
    (message,) = assert_cut_in_shape(text, 200)
    assert message["role"] == "user"
    assert len(text) >= 200 - 4  # the room is used, not wasted


def test_a_dict_value_is_cut_inside_its_strings():
    arguments = {"query": "q" * 10_000, "limit": 5, "tags": ["t" * 500, "short"]}
    text = to_json(arguments, 300)
    value = json.loads(text)
    assert len(text) <= 300 and value["limit"] == 5 and value["tags"][1] == "short"
    assert value["query"].endswith(_content.TRUNCATION_MARK)


def test_a_shape_too_big_for_the_limit_is_one_marked_json_string():
    text = to_json([{"role": "user", "parts": [{"type": "text", "content": "x" * 100}]}], 40)
    assert len(text) <= 40 and isinstance(json.loads(text), str)
    assert text.endswith(_content.TRUNCATION_MARK + '"')
