"""Tests for constraints.txt: every dependency is pinned there, and the venv has what it pins."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    out = {}
    for line in (REPO / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line.strip()).groups()
            out[canonicalize_name(name)] = version
    return out


def test_every_dependency_is_pinned():
    """Each runtime and dev dependency of pyproject.toml has an exact version in constraints.txt
    (torch aside: setup.sh and the Dockerfile pin its CPU build), so no install takes "newest"."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    names = {canonicalize_name(Requirement(r).name) for r in wanted} - {"torch", canonicalize_name(project["name"])}
    assert names - set(pins()) == set()
    assert "torch" not in pins()


def test_the_venv_has_the_pinned_versions():
    """setup.sh installs with -c constraints.txt: every pinned package present has that version."""
    drift = {}
    for name, version in pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        if installed != version:
            drift[name] = (installed, version)
    assert drift == {}
