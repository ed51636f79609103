"""The per-agent hook registry: one registration per agent, however many calls."""

from __future__ import annotations

import gc
import itertools
import threading

from opentelemetry.instrumentation.agents._registry import AgentRegistry


class FakeAgent:
    """Stands in for an agent object: the registry only needs it weak-referenceable."""

    def __init__(self):
        self.hooks: dict[str, object] = {}


def _installer(log, fail_at=None):
    def install(agent):
        added = []
        try:
            for i, name in enumerate(["pre", "post", "third", "fourth"]):
                if i == fail_at:
                    raise RuntimeError(f"cannot register {name}")
                agent.hooks[name] = "ours"
                added.append(name)
        except Exception:
            for name in added:  # roll back the part that went in
                del agent.hooks[name]
            raise
        log.append(("install", id(agent)))
        return added

    def uninstall(agent, added):
        for name in added:
            del agent.hooks[name]
        log.append(("remove", id(agent)))

    return install, uninstall


def test_installs_on_first_and_removes_on_last():
    log = []
    registry = AgentRegistry(*_installer(log))
    agent = FakeAgent()
    assert registry.acquire(agent) and registry.acquire(agent) and registry.acquire(agent)
    assert len(agent.hooks) == 4 and registry.count(agent) == 3
    registry.release(agent)
    registry.release(agent)
    assert len(agent.hooks) == 4
    registry.release(agent)
    assert agent.hooks == {} and len(registry) == 0
    assert [op for op, _ in log] == ["install", "remove"]


def test_release_without_acquire_is_harmless():
    log = []
    registry = AgentRegistry(*_installer(log))
    agent = FakeAgent()
    registry.release(agent)
    registry.acquire(agent)
    registry.release(agent)
    registry.release(agent)
    assert log == [("install", id(agent)), ("remove", id(agent))]
    assert registry.count(agent) == 0


def test_partial_failure_rolls_back_and_is_logged(caplog):
    registry = AgentRegistry(*_installer([], fail_at=2))
    agent = FakeAgent()
    assert registry.acquire(agent) is False
    assert agent.hooks == {}
    assert registry.count(agent) == 0 and len(registry) == 0
    registry.release(agent)  # the caller's matching release does nothing
    assert "installing agent hooks" in caplog.text


def test_entries_vanish_with_their_agents():
    registry = AgentRegistry(*_installer([]))
    agent = FakeAgent()
    registry.acquire(agent)
    assert len(registry) == 1
    del agent
    gc.collect()
    assert len(registry) == 0


def test_concurrent_acquire_release_keeps_one_registration():
    log = []
    registry = AgentRegistry(*_installer(log))
    agent = FakeAgent()
    barrier = threading.Barrier(16)

    def work():
        barrier.wait()
        for _ in range(200):
            registry.acquire(agent)
            assert len(agent.hooks) == 4
            registry.release(agent)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert agent.hooks == {} and len(registry) == 0
    ops = [op for op, _ in log]
    assert ops.count("install") == ops.count("remove") >= 1
    # installs and removals strictly alternate: never two registrations at once
    assert all(a != b for a, b in itertools.pairwise(ops))


def test_clear_removes_everything():
    registry = AgentRegistry(*_installer([]))
    agents = [FakeAgent() for _ in range(3)]
    for a in agents:
        registry.acquire(a)
    registry.clear()
    assert all(a.hooks == {} for a in agents) and len(registry) == 0
