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


EMBEDDING_TOKENS = 9


class EmbeddingServer:
    """`POST /v1/embeddings` on 127.0.0.1: a fixed three-number vector per
    input and `EMBEDDING_TOKENS` prompt tokens per request (the scripted model
    server serves chat only). `requests` counts the requests it answered."""

    def __init__(self) -> None:
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                owner.requests += 1
                reply = json.dumps({
                    "object": "list", "model": body["model"],
                    "data": [{"object": "embedding", "index": i, "embedding": [0.1, 0.2, 0.3]}
                             for i in range(len(inputs))],
                    "usage": {"prompt_tokens": EMBEDDING_TOKENS,
                              "total_tokens": EMBEDDING_TOKENS}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args: Any) -> None:
                pass

        self.requests = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}/v1"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> EmbeddingServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()


def embedding_spans(exporter) -> list[Any]:
    """Every embeddings span, whichever instrumentation made it."""
    return [s for s in exporter.get_finished_spans()
            if (s.attributes or {}).get("gen_ai.operation.name") == "embeddings"
            or s.name.startswith(("embeddings", "openai.embeddings"))]


async def embed_with_agentscope(texts: list[str]) -> int:
    """One AgentScope 2.x `OpenAIEmbeddingModel` call; the requests it made."""
    from agentscope.credential import OpenAICredential
    from agentscope.embedding import OpenAIEmbeddingModel

    with EmbeddingServer() as server:
        model = OpenAIEmbeddingModel(
            credential=OpenAICredential(api_key="test", base_url=server.base_url),
            model="text-embedding-3-small", dimensions=3, pass_dimensions=False)
        response = await model(texts)
        assert len(response.embeddings) == len(texts)
        return server.requests
