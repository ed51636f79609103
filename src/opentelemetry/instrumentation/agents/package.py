"""The runtimes this distribution instruments, as requirement strings.

`BaseInstrumentor` checks these against what is installed before it patches
anything, so an instrumentor stays inert where its runtime is missing.
"""

AGENTSCOPE = "agentscope >= 1.0, < 3"
HERMES_AGENT = "hermes-agent >= 0.13, < 1"
PRAISONAI_AGENTS = "praisonaiagents >= 1.7, < 2"

_instruments = (AGENTSCOPE, HERMES_AGENT, PRAISONAI_AGENTS)
MCP = "mcp >= 1.0, < 3"
A2A_SDK = "a2a-sdk >= 1.0, < 2"
