"""The `praisonai` wrapper's generators: each structured completion one chat span."""

from __future__ import annotations

import json
import threading

from opentelemetry.instrumentation.agents.testing import assert_isolated
from opentelemetry.instrumentation.agents.testing.openai_server import text

TREE = """
parent
  chat gpt-4o-mini
"""


def test_two_generators_in_threads_each_call_is_its_own_chat_span(instrumented, respond,
                                                                  exporter, provider,
                                                                  detector, tmp_path):
    from praisonai.auto import AutoGenerator
    from pydantic import BaseModel

    class Named(BaseModel):
        name: str

    together = threading.Barrier(2, timeout=30)

    def responder(conversation, request):
        together.wait()  # both generators' calls in flight at once
        return text(json.dumps({"name": f"name-{conversation}"}))

    server = respond(responder)
    tracer = provider.get_tracer("test")
    results = {}

    # Built here: two first constructions at once race in PraisonAI's lazy imports.
    generators = {key: AutoGenerator(
        topic=key, agent_file=str(tmp_path / f"{key}.yaml"),
        config_list=[{"model": "gpt-4o-mini", "base_url": server.base_url,
                      "api_key": "sk-scripted"}]) for key in ("a", "b")}

    def generate(key):
        generator = generators[key]
        with tracer.start_as_current_span("parent") as span:
            span.set_attribute("key", key)
            results[key] = generator._structured_completion(
                Named, [{"role": "user", "content": f"Name it. [conv:{key}]"}])

    threads = [threading.Thread(target=generate, args=(key,)) for key in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert {key: r.name for key, r in results.items()} == {"a": "name-a", "b": "name-b"}
    trees = assert_isolated(exporter.get_finished_spans(), TREE, 2)
    for tree in trees:
        (chat,) = tree.children
        assert chat.attributes["gen_ai.operation.name"] == "chat"
        assert chat.attributes["gen_ai.request.model"] == "gpt-4o-mini"
        assert chat.attributes["server.address"] == "127.0.0.1"
        assert chat.attributes["server.port"] == int(server.base_url.split(":")[2].split("/")[0])
    detector.assert_all_ended()
