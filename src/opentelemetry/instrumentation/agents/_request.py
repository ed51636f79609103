"""What a model call asked for, as GenAI attributes: its parameters and its server.

Adapters read the values off the runtime's own objects (a model's parameters,
the keyword arguments of a chat-completions request, a client's base URL) and
hand them here; this module checks their types and names them with the
semantic conventions' keys. Values of the wrong type are left out, never
coerced: an attribute says what the request said or nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from . import attributes as A

_FLOATS = (A.REQUEST_TEMPERATURE, A.REQUEST_TOP_P, A.REQUEST_TOP_K,
           A.REQUEST_FREQUENCY_PENALTY, A.REQUEST_PRESENCE_PENALTY)
_INTS = (A.REQUEST_MAX_TOKENS, A.REQUEST_SEED)

# Chat-completions keyword -> the attribute it becomes (OpenAI's names, which
# LiteLLM and most OpenAI-compatible clients share).
OPENAI_NAMES = {
    "temperature": A.REQUEST_TEMPERATURE,
    "top_p": A.REQUEST_TOP_P,
    "top_k": A.REQUEST_TOP_K,
    "max_tokens": A.REQUEST_MAX_TOKENS,
    "max_completion_tokens": A.REQUEST_MAX_TOKENS,
    "max_output_tokens": A.REQUEST_MAX_TOKENS,  # the Responses API
    "seed": A.REQUEST_SEED,
    "frequency_penalty": A.REQUEST_FREQUENCY_PENALTY,
    "presence_penalty": A.REQUEST_PRESENCE_PENALTY,
    "stop": A.REQUEST_STOP_SEQUENCES,
    "stop_sequences": A.REQUEST_STOP_SEQUENCES,  # Anthropic
    "n": A.REQUEST_CHOICE_COUNT,
    "response_format": A.OUTPUT_TYPE,
}


def _number(value: Any) -> float | None:
    if type(value) is float or type(value) is int:
        return float(value)
    return None


def _stops(value: Any) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def output_type(response_format: Any) -> str | None:
    """`gen_ai.output.type` for a chat-completions ``response_format``."""
    kind = response_format.get("type") if isinstance(response_format, Mapping) else \
        getattr(response_format, "type", None)
    if kind in ("json_object", "json_schema", "json"):
        return A.OUTPUT_TYPE_JSON
    if kind == "text":
        return A.OUTPUT_TYPE_TEXT
    if isinstance(response_format, type):  # a pydantic model class: structured output
        return A.OUTPUT_TYPE_JSON
    return None


def add(attrs: dict[str, Any], key: str, value: Any) -> None:
    """Set `key` in `attrs` to `value` when it has the type the conventions give it."""
    if value is None:
        return
    if key in _FLOATS:
        value = _number(value)
    elif key in _INTS:
        value = value if type(value) is int else None
    elif key == A.REQUEST_CHOICE_COUNT:
        # Conditionally required "if available, in the request, and != 1".
        value = value if type(value) is int and value != 1 else None
    elif key == A.REQUEST_STOP_SEQUENCES:
        value = _stops(value)
    elif key == A.OUTPUT_TYPE:
        value = value if value in (A.OUTPUT_TYPE_TEXT, A.OUTPUT_TYPE_JSON) else output_type(value)
    if value is not None:
        attrs[key] = value


def from_kwargs(kwargs: Mapping[str, Any] | None,
                names: Mapping[str, str] = OPENAI_NAMES) -> dict[str, Any] | None:
    """The request attributes of a call's keyword arguments (None when there are none)."""
    if not kwargs:
        return None
    attrs: dict[str, Any] = {}
    for name, key in names.items():
        value = kwargs.get(name)
        if value is not None:
            add(attrs, key, value)
    return attrs or None


class Fields:
    """Reads request parameters out of the fields of objects that keep them as
    instance fields (AgentScope's pydantic `Parameters`): field name -> key.

    The caller checks first, in C, whether any is set (the common case is
    none): ``tuple(map(fields.get, reader.names))`` all None.
    """

    __slots__ = ("_keys", "names")

    def __init__(self, names: Mapping[str, str]) -> None:
        self.names = tuple(names)
        self._keys = tuple(names.values())

    def __call__(self, fields: Mapping[str, Any]) -> dict[str, Any] | None:
        attrs: dict[str, Any] = {}
        for key, value in zip(self._keys, map(fields.get, self.names), strict=True):
            add(attrs, key, value)
        return attrs or None


_SERVERS: dict[str, tuple[str | None, int | None]] = {}
_SERVERS_LIMIT = 256
_DEFAULT_PORTS = {"https": 443, "http": 80}


def server(base_url: Any) -> tuple[str | None, int | None]:
    """(`server.address`, `server.port`) of a client's base URL; (None, None) if unknown.

    The port is the URL's own or its scheme's default. Parsed once per URL.
    """
    if base_url is None:
        return None, None
    if not isinstance(base_url, str):
        try:
            base_url = str(base_url)  # httpx.URL and the like
        except Exception:  # noqa: BLE001
            return None, None
    found = _SERVERS.get(base_url)
    if found is not None:
        return found
    try:
        parts = urlsplit(base_url)
        host = parts.hostname or None
        port = parts.port if parts.port is not None else _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        host, port = None, None
    found = (host, port if host else None)
    if len(_SERVERS) < _SERVERS_LIMIT:
        _SERVERS[base_url] = found
    return found
