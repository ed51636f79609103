"""Messages in the GenAI semantic conventions' JSON shape, shared by every runtime.

Only used while content capture is on; nothing here runs otherwise. What the
runtimes' converters build, and what ends up (serialized) in
``gen_ai.input.messages``, ``gen_ai.output.messages`` and
``gen_ai.system_instructions``:

- a message: ``{"role": "user" | "assistant" | "tool" | "system", "parts": [...]}``;
  output messages also carry ``"finish_reason"``;
- system instructions: a list of parts (the leading system messages of a
  request, taken out of the input messages);
- parts: ``{"type": "text", "content"}``, ``{"type": "reasoning", "content"}``,
  ``{"type": "tool_call", "id", "name", "arguments"}``,
  ``{"type": "tool_call_response", "id", "response"}``,
  ``{"type": "uri" | "blob" | "file", "modality", "mime_type", ...}``, and for
  anything else ``{"type": "<the runtime's own type>"}`` (no content).

The converters read the runtime's objects (dicts, SDK objects, pydantic
models) without changing them, and turn whatever they do not recognise into a
generic part instead of failing. The OpenAI chat-completions format (Hermes,
PraisonAI, AgentScope 1.x's formatted prompts) is handled here, with the
Anthropic, Gemini, DashScope and Responses API variants it meets on the way.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from ._content import LazyList
from ._safety import report

Part = dict[str, Any]
Message = dict[str, Any]
_F = TypeVar("_F", bound=Callable[..., Any])


def never_raises(default: Any = None) -> Callable[[_F], _F]:
    """Make a converter answer `default` (no content) instead of raising.

    A message the converter cannot read costs that one attribute, never the
    span, the call or the host.
    """
    def decorate(fn: _F) -> _F:
        where = f"converting content ({fn.__module__.rsplit('.', 2)[-2]}.{fn.__name__})"

        @functools.wraps(fn)
        def safe(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception:  # noqa: BLE001 - content is never worth a failure
                report(where)
                return default

        return safe  # type: ignore[return-value]

    return decorate


def get(obj: Any, key: str, default: Any = None) -> Any:
    """`obj[key]` for a mapping, `obj.key` for anything else."""
    if isinstance(obj, Mapping):
        return obj.get(key, default)
    return getattr(obj, key, default)


# -- parts --------------------------------------------------------------------

def text(content: Any) -> Part:
    return {"type": "text", "content": content if isinstance(content, str) else str(content)}


def reasoning(content: Any) -> Part:
    return {"type": "reasoning", "content": content if isinstance(content, str) else str(content)}


def arguments(value: Any) -> Any:
    """Tool-call arguments as an object where they are a JSON object or array in text."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def tool_call(call_id: Any, name: Any, args: Any) -> Part:
    return {"type": "tool_call", "id": None if call_id is None else str(call_id),
            "name": None if name is None else str(name), "arguments": arguments(args)}


def tool_response(call_id: Any, response: Any) -> Part:
    return {"type": "tool_call_response", "id": None if call_id is None else str(call_id),
            "response": response}


def _modality(mime_type: Any, default: str | None = None) -> str | None:
    if isinstance(mime_type, str):
        head = mime_type.split("/", 1)[0]
        if head in ("image", "audio", "video"):
            return head
    return default


def media(*, uri: Any = None, data: Any = None, mime_type: Any = None,
          modality: str | None = None, file_id: Any = None) -> Part:
    """A `uri`, `blob` or `file` part; a ``data:`` URI becomes a blob."""
    if isinstance(uri, str) and uri.startswith("data:"):
        header, _, payload = uri.partition(",")
        mime_type = mime_type or header[5:].split(";", 1)[0] or None
        uri, data = None, payload
    part: Part
    if file_id is not None and uri is None and data is None:
        part = {"type": "file", "file_id": str(file_id)}
    elif uri is not None:
        part = {"type": "uri", "uri": str(uri)}
    else:
        part = {"type": "blob", "content": data}
    mod = _modality(mime_type, modality)
    if mod is not None:
        part["modality"] = mod
    if mime_type:
        part["mime_type"] = str(mime_type)
    return part


def _source_media(source: Any, modality: str | None) -> Part:
    """An Anthropic / AgentScope ``source`` ({type: url | base64, ...})."""
    if get(source, "type") == "base64" or get(source, "data") is not None:
        return media(data=get(source, "data"), mime_type=get(source, "media_type"),
                     modality=modality)
    return media(uri=get(source, "url"), mime_type=get(source, "media_type"),
                 modality=modality)


def text_or_parts(parts: list[Part]) -> Any:
    """A tool response: its text when all of it is text, else the parts."""
    if all(p.get("type") == "text" for p in parts):
        return "\n".join(p["content"] for p in parts)
    return parts


def response_value(output: Any) -> Any:
    """What a tool returned, as a `tool_call_response`'s ``response``."""
    if output is None or isinstance(output, (str, int, float, bool)):
        return output
    if isinstance(output, Mapping):
        return output
    if isinstance(output, (list, tuple)):
        return text_or_parts([part(item) for item in output])
    return text_or_parts([part(output)])


def part(block: Any) -> Part:
    """One content block, in any of the formats the runtimes use, as a part."""
    if isinstance(block, str):
        return text(block)
    kind = get(block, "type")
    if kind in ("text", "input_text", "output_text") or (kind is None and
                                                         get(block, "text") is not None):
        return text(get(block, "text", ""))
    if kind in ("thinking", "reasoning"):
        value = get(block, "thinking")
        if value is None:
            value = get(block, "text") or get(block, "content") or ""
            summary = get(block, "summary")
            if not value and summary:  # Responses API reasoning item
                value = "\n".join(str(get(s, "text", "")) for s in summary)
        return reasoning(value)
    if kind in ("tool_use", "tool_call", "function_call"):
        return tool_call(get(block, "id") if kind != "function_call"
                         else get(block, "call_id") or get(block, "id"),
                         get(block, "name"),
                         get(block, "input") if kind != "function_call"
                         else get(block, "arguments"))
    if kind in ("tool_result", "function_call_output"):
        call_id = get(block, "tool_use_id") or get(block, "call_id") or get(block, "id")
        output = get(block, "output")
        if output is None:
            output = get(block, "content")
        return tool_response(call_id, response_value(output))
    if kind == "image_url":
        image = get(block, "image_url")
        return media(uri=get(image, "url") if image is not None else None, modality="image")
    if kind == "input_audio":
        audio = get(block, "input_audio")
        fmt = get(audio, "format")
        return media(data=get(audio, "data"), mime_type=f"audio/{fmt}" if fmt else None,
                     modality="audio")
    if kind in ("image", "audio", "video") and get(block, "source") is not None:
        return _source_media(get(block, "source"), kind)
    if kind == "file":
        file = get(block, "file") or {}
        return media(uri=get(file, "file_data"), file_id=get(file, "file_id"))
    if kind is None:
        # DashScope: {"image": url}, {"audio": url}, {"video": url}
        for modality in ("image", "audio", "video"):
            value = get(block, modality)
            if isinstance(value, str):
                return media(uri=value, modality=modality)
        # Gemini: {"function_call": ...}, {"function_response": ...}, {"inline_data": ...}
        call = get(block, "function_call")
        if call is not None:
            return tool_call(get(call, "id"), get(call, "name"), get(call, "args"))
        answer = get(block, "function_response")
        if answer is not None:
            return tool_response(get(answer, "id"), get(answer, "response"))
        inline = get(block, "inline_data")
        if inline is not None:
            return media(data=get(inline, "data"), mime_type=get(inline, "mime_type"))
    return {"type": str(kind) if kind is not None else type(block).__name__}


def parts(content: Any) -> list[Part]:
    """A message's content (text, a list of blocks, or None) as parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [text(content)] if content else []
    if isinstance(content, (list, tuple)):
        return [part(block) for block in content]
    return [part(content)]


# -- messages -----------------------------------------------------------------

def message(role: Any, content_parts: list[Part], *, name: Any = None,
            finish_reason: Any = None) -> Message:
    out: Message = {"role": str(role) if role else "user", "parts": content_parts}
    if name and isinstance(name, str):
        out["name"] = name
    if finish_reason is not None:
        out["finish_reason"] = str(finish_reason)
    return out


def text_message(role: str, value: Any, finish_reason: Any = None) -> list[Message] | None:
    """One message holding `value` (text, or a list of blocks); None for None."""
    if value is None:
        return None
    if not isinstance(value, (str, list, tuple)):
        value = str(value)
    return [message(role, parts(value), finish_reason=finish_reason)]


def lazy_split_system(source: Any, convert: Callable[[Any], list[Message]]
                      ) -> tuple[Any, list[Part] | None]:
    """`split_system` for a history converted only as far as it is read.

    The leading system messages are converted now (they are the
    instructions); the rest becomes a `LazyList`, so serializing it under a
    length limit converts only the messages that fit.
    """
    system: list[Part] = []
    for index, item in enumerate(source):
        converted = convert(item)
        for position, msg in enumerate(converted):
            if msg.get("role") not in ("system", "developer"):
                rest = LazyList(source[index + 1:], convert, converted[position:])
                return rest, system or None
            system.extend(msg["parts"])
    # Nothing but instructions (or nothing at all): an empty history, as
    # `split_system` answers for it.
    return LazyList((), convert), system or None


def split_system(messages: list[Message] | None
                 ) -> tuple[list[Message] | None, list[Part] | None]:
    """(input messages, system instructions): the leading system messages' parts
    become the instructions; a system message later in the history stays there."""
    if not messages:
        return messages, None
    system: list[Part] = []
    index = 0
    while index < len(messages) and messages[index].get("role") in ("system", "developer"):
        system.extend(messages[index]["parts"])
        index += 1
    if not index:
        return messages, None
    return messages[index:], system


# -- the OpenAI chat-completions format ------------------------------------------

_ROLES = {"model": "assistant", "human": "user", "ai": "assistant"}


def openai_message(msg: Any) -> list[Message]:
    """One chat message (dict or SDK object) as one message; a Responses API
    input item or a Gemini message is read too."""
    role = get(msg, "role")
    kind = get(msg, "type")
    if role is None and kind in ("function_call", "function_call_output", "reasoning"):
        return [message("tool" if kind == "function_call_output" else "assistant",
                        [part(msg)])]
    role = _ROLES.get(str(role), str(role or "user"))
    if role == "tool" or role == "function":
        content = get(msg, "content")
        return [message("tool", [tool_response(get(msg, "tool_call_id"),
                                               response_value(content))])]
    content_parts: list[Part] = []
    thought = get(msg, "reasoning_content") or get(msg, "reasoning")
    if isinstance(thought, str) and thought:
        content_parts.append(reasoning(thought))
    content = get(msg, "content")
    if content is None and get(msg, "parts") is not None:  # Gemini
        content = get(msg, "parts")
    content_parts.extend(parts(content))
    for call in get(msg, "tool_calls") or ():
        function = get(call, "function")
        content_parts.append(tool_call(get(call, "id"), get(function, "name"),
                                       get(function, "arguments")))
    # Anthropic keeps a user turn's tool results inside it: the model sees tool messages.
    if role == "user" and content_parts and all(
            p["type"] == "tool_call_response" for p in content_parts):
        role = "tool"
    return [message(role, content_parts, name=get(msg, "name"))]


def openai_request(messages: Any, system: Any = None
                   ) -> tuple[list[Message] | None, list[Part] | None]:
    """(input messages, system instructions) of a request's message list.

    `system`: instructions passed beside the messages (Anthropic's
    ``system``, the Responses API's ``instructions``), put before the
    leading system messages.
    """
    if isinstance(messages, str):  # Responses API: a bare prompt
        messages = [{"role": "user", "content": messages}]
    if not isinstance(messages, (list, tuple)):
        return None, parts(system) or None
    converted: list[Message] = []
    for msg in messages:
        converted.extend(openai_message(msg))
    inputs, instructions = split_system(converted)
    extra = parts(system)
    if extra:
        instructions = extra + (instructions or [])
    return inputs, instructions


def lazy_openai_request(messages: Any, system: Any = None) -> tuple[Any, list[Part] | None]:
    """`openai_request`, the history converted only as far as it is read.

    The input messages are a `LazyList` (see `lazy_split_system`): serialized
    under the length limit, a history of any length costs the messages that
    fit. Serialized, the result is the same text as `openai_request`'s.
    """
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    if not isinstance(messages, (list, tuple)):
        return None, parts(system) or None
    inputs, instructions = lazy_split_system(messages, openai_message)
    extra = parts(system)
    if extra:
        instructions = extra + (instructions or [])
    return inputs, instructions


def tool_definitions(tools: Any) -> list[dict[str, Any]] | None:
    """The tools offered to a model, in the conventions' tool-definition shape.

    Reads the chat-completions form (``{"type": "function", "function":
    {...}}``), the Responses API and Anthropic forms (name, description and
    ``parameters`` or ``input_schema`` at the top), dicts or SDK objects.
    """
    if not isinstance(tools, (list, tuple)) or not tools:
        return None
    out: list[dict[str, Any]] = []
    for tool in tools:
        function = get(tool, "function")
        spec = function if function is not None else tool
        name = get(spec, "name")
        if not isinstance(name, str):
            continue
        definition: dict[str, Any] = {"type": str(get(tool, "type") or "function"),
                                      "name": name}
        description = get(spec, "description")
        if description is not None:
            definition["description"] = str(description)
        parameters = get(spec, "parameters")
        if parameters is None:
            parameters = get(spec, "input_schema")
        if parameters is not None:
            definition["parameters"] = parameters
        out.append(definition)
    return out or None


def openai_response(response: Any) -> list[Message] | None:
    """The output messages of a chat-completions, Anthropic or Responses API response."""
    choices = get(response, "choices")
    if choices:
        out = []
        for choice in choices:
            msg = get(choice, "message")
            if msg is None:
                continue
            (converted,) = openai_message(msg)
            converted["role"] = "assistant"
            converted.pop("name", None)
            converted["finish_reason"] = str(get(choice, "finish_reason") or "stop")
            out.append(converted)
        return out or None
    if get(response, "stop_reason") is not None:  # Anthropic
        return [message("assistant", parts(get(response, "content")),
                        finish_reason=get(response, "stop_reason"))]
    output = get(response, "output")
    if isinstance(output, (list, tuple)):  # Responses API
        content_parts: list[Part] = []
        for item in output:
            if get(item, "type") == "message":
                content_parts.extend(parts(get(item, "content")))
            else:
                content_parts.append(part(item))
        wants_tools = any(p["type"] == "tool_call" for p in content_parts)
        return [message("assistant", content_parts,
                        finish_reason="tool_calls" if wants_tools else "stop")]
    return None
