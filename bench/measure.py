"""Small measuring helpers: percentiles, child processes with their peak RSS, folder sizes, machine."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3) if values else float("nan")


def summary_ms(values: list[float]) -> dict[str, float]:
    return {"p50": pct(values, 50), "p95": pct(values, 95), "mean": round(float(np.mean(values)), 3) if values else float("nan")}


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def peak_rss_mb() -> float:
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_child(args: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> dict[str, Any]:
    """Run a command: wall seconds, exit code, output, and the peak RSS (MB) of that child alone."""
    started = time.perf_counter()
    with open(os.devnull, "rb") as devnull:
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd, stdin=devnull)
        out_chunks: list[bytes] = []
        err_chunks: list[bytes] = []

        def pump(stream, sink):  # type: ignore[no-untyped-def]
            for block in iter(lambda: stream.read(65536), b""):
                sink.append(block)

        threads = [threading.Thread(target=pump, args=(proc.stdout, out_chunks)),
                   threading.Thread(target=pump, args=(proc.stderr, err_chunks))]
        for t in threads:
            t.start()
        _, status, usage = os.wait4(proc.pid, 0)
        for t in threads:
            t.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    return {"seconds": round(time.perf_counter() - started, 3), "code": proc.returncode,
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
            "stdout": b"".join(out_chunks).decode("utf-8", "replace"),
            "stderr": b"".join(err_chunks).decode("utf-8", "replace")[-2000:]}


def machine() -> dict[str, Any]:
    """What the numbers were measured on, with the load at that moment (the CPU may be shared)."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except OSError:
        pass
    versions = {}
    from importlib import metadata

    for name in ("torch", "onnxruntime", "faiss-cpu", "sentence-transformers", "langchain-community", "bm25s"):
        try:
            versions[name] = metadata.version(name)  # not imported: the parent stays small
        except metadata.PackageNotFoundError:
            versions[name] = None
    return {"cpu": model, "cores": os.cpu_count(), "memory": mem, "python": sys.version.split()[0],
            "platform": platform.platform(), "loadavg": list(os.getloadavg()), "versions": versions}
