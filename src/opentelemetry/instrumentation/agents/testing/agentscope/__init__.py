"""Scripted AgentScope models for offline tests: only the model is faked.

- `model`: `ScriptedChatModel` and friends for AgentScope 2.x;
- `model_v1`: the same for AgentScope 1.x;
- `embedding` / `embedding_v1`: scripted embedding models (2.x / 1.x),
  whose vectors come from `vectors` (deterministic, no model).

Each imports its AgentScope line when imported: import the one matching the
installed `agentscope`.
"""
