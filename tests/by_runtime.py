"""Test directories that cover every runtime, one module per runtime.

`tests/metrics` and `tests/content` hold ``test_agentscope2.py``,
``test_agentscope1.py``, ``test_hermes.py`` and ``test_praisonai.py`` (and
runtime-independent modules); their conftest ignores the modules whose
runtime this environment does not have (AgentScope 1.x and 2.x never share
one). That is not a skip: those tests do not apply there.
"""

from __future__ import annotations

from importlib import util

from tests.runtimes import installed_major


def ignored_modules() -> list[str]:
    """The runtime test modules this environment cannot run."""
    ignored = []
    major = installed_major("agentscope")
    if major != 2:
        ignored.append("test_agentscope2.py")
    if major != 1:
        ignored.append("test_agentscope1.py")
    if installed_major("hermes-agent") is None:
        ignored.append("test_hermes.py")
    if util.find_spec("praisonaiagents") is None:
        ignored.append("test_praisonai.py")
    return ignored


def prepare_runtimes() -> None:
    """What a runtime needs before its modules are imported (Hermes: its home)."""
    if installed_major("hermes-agent") is not None:
        from tests.hermes.conftest import _prepare_hermes_home

        _prepare_hermes_home()
