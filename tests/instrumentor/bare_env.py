"""A virtual environment holding only some of this venv's distributions.

Built from symlinks in well under a second and offline: a stand-in for a
user's environment where a runtime (AgentScope, say) is not installed, which
`--system-site-packages` cannot give (it shows everything). Our own package
comes from this checkout's `src`, with entry points, as an install would.
"""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
OURS = "opentelemetry-instrumentation-agents"


def _closure(names: list[str]) -> set[str]:
    """The distributions `names` need, transitively (no extras), ours excluded."""
    seen: set[str] = set()
    todo = list(names)
    while todo:
        dist = metadata.distribution(todo.pop())
        key = dist.metadata["Name"].lower()
        if key in seen:
            continue
        seen.add(key)
        for line in dist.requires or ():
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    seen.discard(OURS)
    return seen


def _link_distribution(name: str, site: Path) -> None:
    """Each of the distribution's files, symlinked (namespace packages such as
    `opentelemetry` are shared by many distributions: link files, not dirs)."""
    dist = metadata.distribution(name)
    for file in dist.files or ():
        relative = Path(str(file))
        if relative.parts[0] == ".." or "__pycache__" in relative.parts:
            continue
        source, target = Path(str(dist.locate_file(file))), site / relative
        if source.exists() and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.symlink_to(source)


def _install_ours(site: Path) -> None:
    """This checkout's package: its source on the path, its entry points declared."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    info = site / "opentelemetry_instrumentation_agents-0.0.0.dist-info"
    info.mkdir()
    info.joinpath("METADATA").write_text(f"Metadata-Version: 2.1\nName: {OURS}\n"
                                         "Version: 0.0.0\n")
    groups = project["entry-points"]
    info.joinpath("entry_points.txt").write_text("".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items())
        for group, eps in groups.items()))
    (site / "_agents_src.pth").write_text(str(ROOT / "src") + "\n")


def bare_venv(path: Path, distributions: list[str]) -> Path:
    """A venv at `path` with `distributions` (and what they need) and ours; its python."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(path)], check=True)
    relative = Path(sysconfig.get_path("purelib")).relative_to(sys.prefix)
    site = path / relative
    for name in sorted(_closure(distributions)):
        _link_distribution(name, site)
    _install_ours(site)
    return path / "bin" / "python"


def without_otel_env(environ: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items()
            if not re.match(r"(OTEL_|OPENAI_|PYTHONPATH$|VIRTUAL_ENV$)", k)}
