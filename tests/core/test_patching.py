"""The patcher: several concerns patching one module each get their turn."""

from __future__ import annotations

import sys
import types

from opentelemetry.instrumentation.agents._patching import Patcher


def _module(name: str) -> types.ModuleType:
    module = types.ModuleType(name)

    class Thing:
        def one(self):
            return 1

        def two(self):
            return 2

    module.Thing = Thing
    return module


def _plus(n):
    return lambda wrapped, instance, args, kwargs: wrapped(*args, **kwargs) + n


def test_two_plans_for_a_module_imported_later(tmp_path, monkeypatch):
    name = "otel_agents_patching_later"
    (tmp_path / f"{name}.py").write_text(
        "class Thing:\n    def one(self):\n        return 1\n"
        "    def two(self):\n        return 2\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    patcher = Patcher()
    patcher.on_import(name, lambda m: patcher.wrap(m, "Thing.one", _plus(10)))
    patcher.on_import(name, lambda m: patcher.wrap(m, "Thing.two", _plus(20)))
    try:
        module = __import__(name)
        assert (module.Thing().one(), module.Thing().two()) == (11, 22)
    finally:
        patcher.unpatch_all()
        sys.modules.pop(name, None)
    assert (module.Thing().one(), module.Thing().two()) == (1, 2)


def test_two_plans_for_a_module_already_imported(monkeypatch):
    name = "otel_agents_patching_now"
    module = _module(name)
    monkeypatch.setitem(sys.modules, name, module)
    patcher = Patcher()
    patcher.on_import(name, lambda m: patcher.wrap(m, "Thing.one", _plus(10)))
    patcher.on_import(name, lambda m: patcher.wrap(m, "Thing.two", _plus(20)))
    try:
        assert (module.Thing().one(), module.Thing().two()) == (11, 22)
    finally:
        patcher.unpatch_all()
    assert (module.Thing().one(), module.Thing().two()) == (1, 2)


def test_a_missing_call_point_warns_once_by_name_and_the_rest_is_patched(monkeypatch, caplog):
    name = "otel_agents_patching_drift"
    module = _module(name)
    del module.Thing.two  # a release that dropped one method
    monkeypatch.setitem(sys.modules, name, module)
    patcher = Patcher()

    def plan(m):
        patcher.wrap(m, "Thing.two", _plus(20))
        patcher.wrap(m, "Gone.method", _plus(30))  # and a whole class
        patcher.wrap(m, "Thing.one", _plus(10))
        patcher.wrap(m, "Thing.two", _plus(20))  # asked again: no second warning

    caplog.set_level("WARNING", logger="opentelemetry.instrumentation.agents")
    patcher.on_import(name, plan)
    try:
        assert module.Thing().one() == 11
        assert patcher.missing() == [f"{name}.Gone.method", f"{name}.Thing.two"]
        messages = [r.getMessage() for r in caplog.records]
        assert len(messages) == 2
        assert all("is not in the installed version" in m for m in messages)
    finally:
        patcher.unpatch_all()
    assert module.Thing().one() == 1
    assert patcher.missing() == []


def test_a_missing_method_of_a_class_is_named_from_its_module(caplog):
    patcher = Patcher()
    patcher.on_import("otel_agents_never_imported", lambda m: None)  # makes it active
    try:
        class Local:
            pass

        assert not patcher.wrap(Local, "method", _plus(1))
        [record] = caplog.records
        assert f"{__name__}.{Local.__qualname__}.method" in record.getMessage()
    finally:
        patcher.unpatch_all()
