"""A private Docker engine, a stand-in `python:3.11-slim` base and the citebot image build.

Base images cannot be pulled on these machines and no engine runs, so the container test brings
its own: dockerd on a socket in a temp folder, a Debian bookworm rootfs made by debootstrap
(cached as a tarball, so reruns skip the slow part) imported under the Dockerfile's base tag,
and the local CPU torch wheel handed to the build through the ignored `.docker-build/wheels/`.
The engine's image store is cached too (`$CITEBOT_DOCKER_CACHE/engine`, default under
/var/cache/citebot-docker), so a rerun rebuilds only what changed; CITEBOT_DOCKER_FRESH=1 uses a
throw-away store instead (a full build; deleting it afterwards takes minutes on these disks).
Used by tests/test_docker.py; also runnable by hand:

    python tests/docker/harness.py build   # engine up, image built, size and time printed
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("CITEBOT_DOCKER_CACHE", "/var/cache/citebot-docker"))
ROOTFS_TAR = CACHE / "bookworm-python311-rootfs.tar"
TORCH_VERSION = "2.13.0"
WHEELS = REPO / ".docker-build" / "wheels"
PATH_ENV = "PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")


class Unavailable(Exception):
    """The machine cannot run an engine here (not root, no apt, dockerd will not start...)."""


def base_image() -> str:
    """The default base the Dockerfile names: the stand-in is tagged with exactly that."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    match = re.search(r"^ARG BASE_IMAGE=(\S+)", text, re.MULTILINE)
    if not match:
        raise RuntimeError("Dockerfile has no `ARG BASE_IMAGE=...` default")
    return match.group(1)


def _run(cmd: list[str], timeout: float = 600, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False, **kw)  # type: ignore[call-overload]


def ensure_tools() -> None:
    """dockerd, debootstrap and docker-compose (v1, to check the compose file) from Debian, once."""
    if sys.platform != "linux" or os.geteuid() != 0:
        raise Unavailable("the Docker test needs root on Linux to start its own engine")
    tools = (("dockerd", "docker.io"), ("debootstrap", "debootstrap"), ("docker-compose", "docker-compose"))
    missing = [pkg for tool, pkg in tools if not shutil.which(tool)]
    if not missing:
        return
    if not shutil.which("apt-get"):
        raise Unavailable(f"{', '.join(missing)} missing and no apt-get to install them")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    _run(["apt-get", "update", "-qq"], env=env)
    done = _run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing], env=env)
    if done.returncode != 0 or not shutil.which("dockerd") or not shutil.which("docker"):
        raise Unavailable(f"apt-get install {' '.join(missing)} failed: {done.stderr.strip()[-300:]}")


@dataclass
class Engine:
    """One dockerd on a private socket under `root`; its images live in `data` (see start_engine)."""

    root: Path
    data: Path
    proc: subprocess.Popen[bytes]
    lock: IO[str] | None = None  # held while dockerd uses the cached data root

    @property
    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "DOCKER_BUILDKIT": "0",
            "DOCKER_HOST": f"unix://{self.root}/docker.sock",
            "DOCKER_CONFIG": str(self.root / "config"),
        }

    def docker(
        self, *args: str, timeout: float = 600, check: bool = True, stdin: object = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the docker client against this engine; raise with its stderr on failure when `check`."""
        done = subprocess.run(
            ["docker", *args],
            capture_output=True,
            check=False,
            text=True,
            timeout=timeout,
            env=self.env,
            stdin=stdin,  # type: ignore[arg-type]
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"docker {' '.join(args[:3])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return done

    def stop(self) -> None:
        """Remove containers, stop dockerd by its pid, delete its temp folders (images stay cached)."""
        if self.proc.poll() is None:
            with contextlib.suppress(Exception):
                ids = self.docker("ps", "-aq", timeout=30, check=False).stdout.split()
                if ids:
                    self.docker("rm", "-f", *ids, timeout=120, check=False)
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)
        for mount in reversed(_mounts_under(self.root) + _mounts_under(self.data)):
            _run(["umount", "-l", mount], timeout=30)
        shutil.rmtree(self.root, ignore_errors=True)
        if self.lock is None:
            shutil.rmtree(self.data, ignore_errors=True)
        else:
            fcntl.flock(self.lock, fcntl.LOCK_UN)
            self.lock.close()


def _mounts_under(root: Path) -> list[str]:
    with open("/proc/self/mounts", encoding="utf-8") as f:
        points = [line.split()[1] for line in f]
    return [p for p in points if p.startswith(str(root) + "/")]


def _cached_data_root() -> tuple[Path, IO[str] | None]:
    """The engine's image store, kept between runs so rebuilds reuse layers (and nothing big is
    deleted each run); a second concurrent run gets a throw-away one instead."""
    if os.environ.get("CITEBOT_DOCKER_FRESH") != "1":
        CACHE.mkdir(parents=True, exist_ok=True)
        lock = open(CACHE / "engine.lock", "w")  # noqa: SIM115 - held for the engine's lifetime
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return CACHE / "engine", lock
        except BlockingIOError:
            lock.close()
    return Path(tempfile.mkdtemp(prefix="citebot-dockerdata-")), None


def start_engine(timeout: float = 90) -> Engine:
    """Start dockerd as the issue describes: no iptables, no bridge, overlay2, private paths."""
    ensure_tools()
    root = Path(tempfile.mkdtemp(prefix="citebot-dockerd-"))  # short: the socket path has a limit
    data, lock = _cached_data_root()
    log = open(root / "dockerd.log", "wb")  # noqa: SIM115 - lives as long as dockerd
    proc = subprocess.Popen(
        [
            "dockerd",
            "--iptables=false",
            "--ip-forward=false",
            "--bridge=none",
            "--storage-driver=overlay2",
            f"--data-root={data}",
            f"--exec-root={root}/exec",
            f"--host=unix://{root}/docker.sock",
            f"--pidfile={root}/dockerd.pid",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    engine = Engine(root, data, proc, lock)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = (root / "dockerd.log").read_text(errors="replace")[-800:]
            engine.stop()
            raise Unavailable(f"dockerd exited with {proc.returncode}: {tail}")
        if (root / "docker.sock").exists() and engine.docker("version", timeout=20, check=False).returncode == 0:
            return engine
        time.sleep(0.5)
    tail = (root / "dockerd.log").read_text(errors="replace")[-800:]
    engine.stop()
    raise Unavailable(f"dockerd did not answer within {timeout:.0f}s: {tail}")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def rootfs_tarball() -> Path:
    """Debian bookworm + Python 3.11, shaped like python:3.11-slim; made once, then cached."""
    with _locked(CACHE / ".lock"):
        if ROOTFS_TAR.exists():
            return ROOTFS_TAR
        work = Path(tempfile.mkdtemp(prefix="citebot-rootfs-"))
        try:
            rootfs = work / "rootfs"
            done = _run(
                [
                    "debootstrap",
                    "--variant=minbase",
                    "--include=python3,python3-venv,python3-pip,ca-certificates",
                    "bookworm",
                    str(rootfs),
                    "http://deb.debian.org/debian",
                ],
                timeout=1200,
            )
            if done.returncode != 0:
                raise Unavailable(f"debootstrap failed: {(done.stdout + done.stderr).strip()[-400:]}")
            (rootfs / "usr/lib/python3.11/EXTERNALLY-MANAGED").unlink(missing_ok=True)
            for name, target in (
                ("python", "/usr/bin/python3"),
                ("python3", "/usr/bin/python3"),
                ("pip", "/usr/bin/pip3"),
            ):
                link = rootfs / "usr/local/bin" / name
                link.unlink(missing_ok=True)
                link.symlink_to(target)
            for junk in ("var/cache/apt", "var/lib/apt/lists"):
                for item in (rootfs / junk).glob("*"):
                    if item.is_file():
                        item.unlink()
            partial = ROOTFS_TAR.with_suffix(".partial")
            done = _run(["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(partial), "."], timeout=600)
            if done.returncode != 0:
                raise RuntimeError(f"tar of the rootfs failed: {done.stderr[-400:]}")
            os.replace(partial, ROOTFS_TAR)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return ROOTFS_TAR


def _with_host_ca(source: Path, out: Path) -> None:
    """Copy the rootfs tar, swapping in this host's CA bundle (outbound TLS here needs it)."""
    ca_name = "./etc/ssl/certs/ca-certificates.crt"
    with tarfile.open(source) as src, tarfile.open(out, "w") as dst:
        for member in src:
            if member.name == ca_name:
                continue
            dst.addfile(member, src.extractfile(member) if member.isfile() else None)
        info = dst.gettarinfo(str(HOST_CA), arcname=ca_name)
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        with open(HOST_CA, "rb") as f:
            dst.addfile(info, f)


def import_base(engine: Engine) -> str:
    """Import the cached rootfs as the Dockerfile's base tag (the host CA added, never cached)."""
    tag = base_image()
    if engine.docker("image", "inspect", tag, check=False).returncode == 0:
        return tag
    tar = rootfs_tarball()
    with tempfile.TemporaryDirectory(prefix="citebot-base-") as tmp:
        patched = Path(tmp) / "rootfs.tar"
        _with_host_ca(tar, patched)
        with open(patched, "rb") as f:
            engine.docker(
                "import",
                "--change",
                f"ENV {PATH_ENV}",
                "--change",
                "ENV LANG=C.UTF-8",
                "--change",
                'CMD ["python3"]',
                "-",
                tag,
                stdin=f,
                timeout=600,
            )
    return tag


def stage_torch_wheel() -> Path:
    """Put the CPU torch wheel in `.docker-build/wheels/` (git-ignored) for the Dockerfile to pick up."""
    WHEELS.mkdir(parents=True, exist_ok=True)
    if not list(WHEELS.glob(f"torch-{TORCH_VERSION}*cpu*.whl")):
        done = _run(
            [sys.executable, "-m", "pip", "download", f"torch=={TORCH_VERSION}", "--no-deps", "-d", str(WHEELS)],
            timeout=1200,
        )
        if done.returncode != 0:
            raise RuntimeError(f"pip download torch failed: {done.stderr[-600:]}")
    wheels = list(WHEELS.glob(f"torch-{TORCH_VERSION}*.whl"))
    cuda = [w for w in wheels if "cpu" not in w.name]
    if not wheels or cuda:
        raise RuntimeError(f"expected only the CPU torch wheel in {WHEELS}, found {[w.name for w in wheels]}")
    return wheels[0]


@dataclass(frozen=True)
class Build:
    tag: str
    seconds: float
    size_bytes: int
    cached_steps: int  # steps the engine's layer cache answered (0 on a first build)
    log: Path


def _image_id(engine: Engine, ref: str) -> str | None:
    done = engine.docker("image", "inspect", "--format", "{{.Id}}", ref, check=False)
    return done.stdout.strip() if done.returncode == 0 else None


def build_image(engine: Engine, tag: str = "citebot:test", *build_args: str) -> Build:
    """Build the repository's Dockerfile with the local CPU wheel; time it and read its size.

    The build stage is tagged too (`<tag>-build`), so its layers stay cached for the next run;
    the images a rebuild replaces are removed, so the cache does not grow with every change.
    `build_args` ("NAME=value") are passed to both builds.
    """
    stage_torch_wheel()
    args = [a for arg in build_args for a in ("--build-arg", arg)]
    tags = {f"{tag}-build": [*args, "--target", "build"], tag: args}
    old = {t: _image_id(engine, t) for t in tags}
    log = engine.root / "build.log"
    start = time.monotonic()
    first_pass = ""  # the build stage alone: its cache hits say whether this was a fresh build
    with open(log, "w") as out:
        for t, extra in tags.items():
            done = subprocess.run(
                ["docker", "build", "--network=host", *extra, "-t", t, str(REPO)],
                stdout=out,
                check=False,
                stderr=subprocess.STDOUT,
                env=engine.env,
                timeout=3600,
            )
            if done.returncode != 0:
                break
            out.flush()
            first_pass = first_pass or log.read_text(errors="replace")
    seconds = time.monotonic() - start
    text = log.read_text(errors="replace")
    if done.returncode != 0:
        raise RuntimeError(f"docker build failed after {seconds:.0f}s:\n{text[-5000:]}")
    for t, previous in old.items():
        if previous and previous != _image_id(engine, t):
            engine.docker("rmi", previous, check=False, timeout=600)
    engine.docker("image", "prune", "-f", check=False, timeout=600)  # safe now: both stages are tagged
    size = int(engine.docker("image", "inspect", "--format", "{{.Size}}", tag).stdout.strip())
    return Build(tag, seconds, size, first_pass.count("Using cache"), log)


def main(argv: list[str]) -> int:
    if argv[1:] != ["build"]:
        print("usage: harness.py build", file=sys.stderr)
        return 2
    try:
        engine = start_engine()
    except Unavailable as exc:
        print(f"no engine: {exc}", file=sys.stderr)
        return 2
    try:
        t0 = time.monotonic()
        import_base(engine)
        print(f"base ready in {time.monotonic() - t0:.0f}s", file=sys.stderr)
        build = build_image(engine)
        print(
            f"built {build.tag} in {build.seconds:.0f}s ({build.cached_steps} steps from cache), "
            f"{build.size_bytes / 1e6:.0f} MB",
            file=sys.stderr,
        )
    finally:
        engine.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
