"""Regenerate docs/phoenix-trace.png: one of our traces in Phoenix's web UI.

End to end and offline: starts a throw-away Phoenix (`phoenix_server.py`,
from `.venv-phoenix`), runs `examples/phoenix_demo.py` against it with this
interpreter (the main environment, `.venv`), finds the trace of the PraisonAI
team, opens its page in headless Chromium (Debian's `chromium` package:
`apt-get install -y chromium`) and saves the screenshot; then stops Phoenix.

    .venv/bin/python scripts/screenshot_phoenix.py [--output docs/phoenix-trace.png]

`make screenshot` does the same after building both environments.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from phoenix_server import ROOT, PhoenixServer

DEMO = ROOT / "examples" / "phoenix_demo.py"
PROJECT = "agents-demo"
DEMO_SPANS = 22
# The trace to show, and the span selected in it (its details fill the right pane).
ROOT_SPAN = "invoke_workflow weather-desk"
SELECTED_SPAN = "invoke_agent researcher"
# Text the rendered page must hold before we trust the picture.
MUST_SHOW = ("invoke_workflow weather-desk", "invoke_agent researcher", "invoke_agent writer",
             "execute_tool get_weather", "chat gpt-4o-mini", "react step")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                  "--window-size=1600,1000",
                  # The trace opens in a sliding, fading panel: without this the
                  # picture can catch it half way, see-through.
                  "--force-prefers-reduced-motion")


def find_chromium() -> str:
    for name in (os.environ.get("CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and (path := shutil.which(name)):
            return path
    sys.exit("no Chromium found: `apt-get install -y chromium` (or set CHROMIUM)")


def run_demo(phoenix: PhoenixServer, home: pathlib.Path) -> dict[str, str]:
    """Run the demo against `phoenix`; the trace id of each root span it printed."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("OPENAI_", "OTEL_", "HERMES_", "PHOENIX_"))}
    env["HOME"] = str(home)
    out = subprocess.run([sys.executable, str(DEMO), "--endpoint", phoenix.url,
                          "--project", PROJECT], capture_output=True, text=True, timeout=300,
                         cwd=home, env=env)
    if out.returncode != 0:
        sys.exit(f"the demo failed:\n{out.stdout}\n{out.stderr}")
    return {name: trace_id for trace_id, name in
            re.findall(r"^  trace ([0-9a-f]{32})  (.+)$", out.stdout, re.MULTILINE)}


def chromium(browser: str, profile: pathlib.Path, url: str, *args: str, budget_ms: int) -> str:
    out = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
         f"--virtual-time-budget={budget_ms}", *args, url],
        capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        sys.exit(f"chromium failed ({out.returncode}):\n{out.stderr[-3000:]}")
    return out.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=pathlib.Path, default=ROOT / "docs" / "phoenix-trace.png")
    args = parser.parse_args()
    browser = find_chromium()
    work = pathlib.Path(tempfile.mkdtemp(prefix="phoenix-screenshot-"))
    try:
        with PhoenixServer() as phoenix:
            traces = run_demo(phoenix, work)
            if ROOT_SPAN not in traces:
                sys.exit(f"the demo printed no {ROOT_SPAN!r} trace: {traces}")
            trace_id = traces[ROOT_SPAN]
            spans = phoenix.wait_for_spans(PROJECT, DEMO_SPANS)
            if len(spans) < DEMO_SPANS:
                sys.exit(f"Phoenix holds {len(spans)} of the demo's {DEMO_SPANS} spans")
            project_id = phoenix.get_json(f"/v1/projects/{PROJECT}")["data"]["id"]
            selected = next(s["id"] for s in spans
                            if s["name"] == SELECTED_SPAN and s["context"]["trace_id"] == trace_id)
            url = (f"{phoenix.url}/projects/{project_id}/traces/{trace_id}"
                   f"?selectedSpanNodeId={selected}")

            # The UI is a single-page app that fetches the trace after it loads:
            # let it run (virtual time) until the tree is in the page, then shoot.
            for budget_ms in (10_000, 20_000, 40_000):
                dom = chromium(browser, work / "profile", url, "--dump-dom", budget_ms=budget_ms)
                missing = [text for text in MUST_SHOW if text not in dom]
                if not missing:
                    break
            else:
                sys.exit(f"the trace page never showed {missing} ({url})")
            args.output.parent.mkdir(parents=True, exist_ok=True)
            shot = work / "shot.png"
            chromium(browser, work / "profile", url, f"--screenshot={shot}", budget_ms=budget_ms)
            # A page still loading is a few kB; the rendered trace well over 100.
            if not shot.exists() or shot.stat().st_size < 60_000:
                sys.exit(f"chromium wrote no usable screenshot ({url})")
            shutil.copyfile(shot, args.output)
            print(f"{args.output}: trace {trace_id} ({ROOT_SPAN}), {url}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    started = time.monotonic()
    main()
    print(f"done in {time.monotonic() - started:.0f}s")
