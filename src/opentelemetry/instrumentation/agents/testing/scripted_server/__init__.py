"""The scripted model server, one module per concern.

`turns` (what a test scripts), `server` (conversation routing, recording),
one module per served API (`chat_completions`, `anthropic_messages`,
`responses`), `exchange` (shared rendering helpers) and `http` (transport).
Import the public names from `opentelemetry.instrumentation.agents.testing.openai_server`.
"""
