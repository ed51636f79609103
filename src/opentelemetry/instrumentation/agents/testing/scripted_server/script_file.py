"""Scripts for the standalone server, read from a JSON file.

The file is either a list of turns (every conversation follows it
independently) or an object::

    {
      "script": [turns],                      # every conversation (optional)
      "conversations": {"abc": [turns]},      # one script per [conv:abc] (optional)
      "models": ["gpt-4o-mini"],              # listed by GET /v1/models (optional)
      "response_model": "gpt-4o-mini",        # reported in responses (optional)
      "marker": "first"                       # or "last" (optional)
    }

A turn is one object: ``{"text": "..."}``, ``{"tool_calls": [{"name": "f",
"arguments": {...}, "id": "..."}], "content": "..."}`` or ``{"error": 429,
"message": "..."}``; any other key is passed to `text` / `tool_calls` /
`error` as the keyword of the same name (``usage`` as ``[input, output]``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .turns import ToolCall, Turn, error, text, tool_calls

_OPTIONS = ("models", "response_model", "marker")


def turn_from_json(item: Mapping[str, Any]) -> Turn:
    """One turn from its JSON object (see the module docstring)."""
    options = {k: tuple(v) if k == "usage" and v is not None else v
               for k, v in item.items() if k not in ("text", "tool_calls", "error")}
    if "tool_calls" in item:
        calls = [ToolCall(c["name"], c.get("arguments", {}), c.get("id"))
                 for c in item["tool_calls"]]
        return tool_calls(calls, **options)
    if "error" in item:
        return error(int(item["error"]), **options)
    if "text" in item:
        return text(item["text"], **options)
    raise ValueError(f"a turn needs 'text', 'tool_calls' or 'error': {dict(item)!r}")


def _turns(items: Any, where: str) -> list[Turn]:
    if not isinstance(items, list):
        raise ValueError(f"{where} must be a list of turns")
    return [turn_from_json(item) for item in items]


def server_arguments(document: Any) -> dict[str, Any]:
    """`ScriptedOpenAIServer` keyword arguments from a parsed script file."""
    if isinstance(document, list):
        return {"scripts": _turns(document, "the script")}
    if not isinstance(document, dict):
        raise ValueError("a script file holds a list of turns or an object")
    unknown = set(document) - {"script", "conversations", *_OPTIONS}
    if unknown:
        raise ValueError(f"unknown keys in the script file: {', '.join(sorted(unknown))}")
    kwargs = {k: document[k] for k in _OPTIONS if k in document}
    shared = _turns(document["script"], "'script'") if "script" in document else None
    if "conversations" in document:
        kwargs["scripts"] = {conv: _turns(turns, f"conversations[{conv!r}]")
                             for conv, turns in document["conversations"].items()}
        if shared is not None:
            kwargs["default"] = shared
    elif shared is not None:
        kwargs["scripts"] = shared
    return kwargs


def load(path: str | Path) -> dict[str, Any]:
    """`server_arguments` for the JSON file at `path`."""
    return server_arguments(json.loads(Path(path).read_text(encoding="utf-8")))
