"""The usage details a provider reports beside its input and output counts.

Read off the provider's own usage object (or the dict a client made of it),
in the shapes the runtimes pass on:

- OpenAI chat completions (and LiteLLM, and OpenAI-compatible servers):
  ``prompt_tokens_details.cached_tokens``,
  ``completion_tokens_details.reasoning_tokens``; some (LiteLLM for
  Anthropic models, DeepSeek) add ``cache_creation_input_tokens`` or
  ``prompt_cache_hit_tokens``.
- The OpenAI Responses API: ``input_tokens_details.cached_tokens``,
  ``output_tokens_details.reasoning_tokens``.
- Anthropic messages: ``cache_read_input_tokens``,
  ``cache_creation_input_tokens``.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class UsageDetails(NamedTuple):
    cache_read: int | None = None
    cache_creation: int | None = None
    reasoning: int | None = None


NONE = UsageDetails()


def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _count(value: Any) -> int | None:
    return value if type(value) is int and value >= 0 else None


def _first(obj: Any, *paths: tuple[str, ...]) -> int | None:
    for path in paths:
        value = obj
        for name in path:
            value = _get(value, name)
        value = _count(value)
        if value is not None:
            return value
    return None


def details(usage: Any) -> UsageDetails | None:
    """The cache and reasoning counts `usage` reports (None for each it does not;
    None when it reports none of them)."""
    if usage is None:
        return None
    found = UsageDetails(
        _first(usage, ("cache_read_input_tokens",), ("prompt_tokens_details", "cached_tokens"),
               ("input_tokens_details", "cached_tokens"), ("prompt_cache_hit_tokens",)),
        _first(usage, ("cache_creation_input_tokens",),
               ("prompt_tokens_details", "cache_creation_tokens")),
        _first(usage, ("completion_tokens_details", "reasoning_tokens"),
               ("output_tokens_details", "reasoning_tokens"), ("reasoning_tokens",)),
    )
    return None if found == NONE else found
