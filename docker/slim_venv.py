"""Uninstall from a venv what citebot's default path never imports: torch and what only it needs.

Run inside the image build, after the int8 export (the one step that needs torch) is made:

    python slim_venv.py pyproject.toml torch sentence-transformers transformers

Keeps the closure of pyproject's dependencies, walking requirement metadata but never into the
named packages; uninstalls every other distribution except the packaging tools. The query path
(onnxruntime + tokenizers) is then all that runs; CITEBOT_BACKEND=torch needs the torch image.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

TOOLS = {"pip", "setuptools", "wheel", "packaging"}


def closure(roots: list[str], cut: set[str]) -> set[str]:
    env = default_environment()
    seen: set[str] = set()
    todo = [(Requirement(r), "") for r in roots]
    while todo:
        req, extra = todo.pop()
        name = canonicalize_name(req.name)
        if name in cut or (req.marker and not req.marker.evaluate({**env, "extra": extra})):
            continue
        wanted = {(name, e) for e in ("", *req.extras)}
        if all(w in seen for w in wanted):
            continue
        seen.update(wanted)
        try:
            dist = metadata.distribution(req.name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"slim_venv: {req.name} is required but not installed") from None
        for e in ("", *req.extras):
            todo.extend((Requirement(r), e) for r in dist.requires or [])
    return {n for n, _ in seen}


def main(argv: list[str]) -> int:
    pyproject, *cut = argv[1:]
    with open(pyproject, "rb") as fh:
        project = tomllib.load(fh)["project"]
    keep = closure(project["dependencies"], {canonicalize_name(c) for c in cut})
    keep |= TOOLS | {canonicalize_name(project["name"])}
    installed = {canonicalize_name(d.metadata["Name"]) for d in metadata.distributions()}
    drop = sorted(installed - keep)
    print("slim_venv: uninstalling", " ".join(drop), flush=True)
    if drop:
        subprocess.run([sys.executable, "-m", "pip", "uninstall", "-y", "-q", *drop], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
