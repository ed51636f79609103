"""Every code block marked runnable in the README and the docs runs as written.

A block is marked by an HTML comment on the line before its fence:
``<!-- runnable -->`` (a shell block runs in bash from the repository root; a
Python block as a script) or ``<!-- runnable: pytest -->`` (a test module,
run by pytest). Shell blocks that start an agent must print its
``invoke_agent`` span. ``<!-- fragment -->`` marks a block that is not meant
to run on its own; any other unmarked block fails the inventory test below.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"(?:<!-- (?P<mark>[a-z: ]+) -->\n)?```(?P<lang>\w*)\n(?P<code>.*?)^```",
                   re.S | re.M)
# Blocks that show output, trees, tables or shapes rather than code to run.
SHOWN = {"", "json", "text"}


def _blocks() -> list[tuple[str, str, str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text[:match.start()].count("\n") + 1
            found.append((f"{page.relative_to(ROOT)}:{line}", match["mark"] or "",
                          match["lang"], match["code"]))
    return found


RUNNABLE = [b for b in _blocks() if b[1].startswith("runnable")]


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OTEL_", "OPENAI_", "HERMES_"))}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT / "src"),
               PATH=f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}")
    return env


@pytest.mark.parametrize(("where", "mark", "lang", "code"), RUNNABLE,
                         ids=[b[0] for b in RUNNABLE])
def test_runnable_block_runs(where, mark, lang, code, tmp_path):
    env = _env(tmp_path)
    if mark == "runnable: pytest":
        (tmp_path / "test_doc_block.py").write_text(code)
        args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                str(tmp_path / "test_doc_block.py")]
    elif lang == "sh":
        args = ["bash", "-e", "-c", code]
    else:
        assert lang == "python", f"{where}: runnable {lang!r} block"
        args = [sys.executable, "-c", code]
    proc = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        # Whatever the block left running (a server it failed to stop) goes too.
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    assert proc.returncode == 0, f"{where}\n{stdout[-3000:]}\n{stderr[-3000:]}"
    if lang == "sh" and "opentelemetry-instrument" in code:
        assert '"name": "invoke_agent ' in stdout, stdout[-3000:]


def test_every_code_block_is_runnable_or_marked_otherwise():
    unmarked = [where for where, mark, lang, _ in _blocks()
                if not mark and lang not in SHOWN]
    assert not unmarked, f"mark these <!-- runnable --> or <!-- fragment -->: {unmarked}"
