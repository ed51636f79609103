"""Kept so existing imports work: this module is now `testing.agentscope.vectors`."""

from .agentscope.vectors import *  # noqa: F403
