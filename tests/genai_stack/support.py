"""What the provider-instrumentation tests share: the instrumentors, and
reading spans and token counts back from every scope."""

from __future__ import annotations

from typing import Any

OURS = "opentelemetry.instrumentation.agents"


def official_openai() -> type:
    from opentelemetry.instrumentation.genai.openai import OpenAIInstrumentor

    return OpenAIInstrumentor


def official_anthropic() -> type:
    from opentelemetry.instrumentation.genai.anthropic import AnthropicInstrumentor

    return AnthropicInstrumentor


def openllmetry_openai() -> type:
    from opentelemetry.instrumentation.openai import OpenAIInstrumentor

    return OpenAIInstrumentor


# name -> (instrumentor class factory, the scope its spans and metrics carry)
PROVIDERS = {
    "genai-openai": (official_openai, "opentelemetry.instrumentation.genai.openai"),
    "openllmetry-openai": (openllmetry_openai, "opentelemetry.instrumentation.openai.v1"),
}
ORDERS = {"ours-first": True, "provider-first": False}


def chat_spans(exporter) -> list[Any]:
    """Every model-call span, whichever instrumentation made it."""
    return [s for s in exporter.get_finished_spans()
            if (s.attributes or {}).get("gen_ai.operation.name") == "chat"
            or s.name.startswith(("chat ", "openai.chat", "anthropic.chat"))]


def scopes(spans) -> list[str]:
    return sorted(s.instrumentation_scope.name for s in spans)


def token_sums(reader) -> dict[str, int]:
    """`gen_ai.client.token.usage` summed by token type over every scope."""
    sums: dict[str, int] = {}
    data = reader.get_metrics_data()
    for resource_metrics in data.resource_metrics if data else ():
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                if metric.name != "gen_ai.client.token.usage":
                    continue
                for point in metric.data.data_points:
                    kind = point.attributes.get("gen_ai.token.type")
                    sums[kind] = sums.get(kind, 0) + int(point.sum)
    return sums


def server_tokens(script) -> dict[str, int]:
    """The tokens the scripted turns report, by token type."""
    return {"input": sum(t.usage[0] for t in script),
            "output": sum(t.usage[1] for t in script)}


def forget_openllmetry_responses() -> None:
    """Empty OpenLLMetry's process-wide record of the Responses API responses
    it has seen, keyed by response id: the scripted server gives every test
    the same ids, and a response id it already holds is traced as the old
    response's continuation (in that response's trace). Real ids are unique."""
    try:
        from opentelemetry.instrumentation.openai.v1 import responses_wrappers
    except ImportError:
        return
    responses_wrappers.responses.clear()
