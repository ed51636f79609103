"""What both AgentScope lines share: embedding calls, provider names,
workflow spans and the splitting of a message into the messages a model sees."""
