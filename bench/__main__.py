"""`python -m bench ...`: citebot against LangChain's FAISS pipeline, backends, and synthetic scale.

    python -m bench run --corpus seeds            # both pipelines, same chunks and model
    python -m bench run --corpus bbc --backend onnx-int8 --work /work/cache/bench-bbc
    python -m bench backends --base-index /work/cache/bench-bbc/index   # torch / onnx / onnx-int8
    python -m bench scale --chunks 100000 --base-index /work/cache/bench-bbc/index

Results are printed as a table and written as JSON under bench/results/ (not committed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .corpora import copy_sources
from .measure import machine, run_child

RESULTS = Path(__file__).resolve().parent / "results"

# (label, path into a side's result, higher_is_better)
FIGURES: list[tuple[str, tuple[str, ...], bool]] = [
    ("full build, s", ("full_build", "seconds"), False),
    ("build rate, chunks/s", ("full_build", "chunks_per_s"), True),
    ("update 1 doc, s", ("update_1_docs", "seconds"), False),
    ("update 10 docs, s", ("update_10_docs", "seconds"), False),
    ("warm query p50, ms", ("warm_query_ms", "total", "p50"), False),
    ("warm query p95, ms", ("warm_query_ms", "total", "p95"), False),
    ("  embed p50, ms", ("warm_query_ms", "embed", "p50"), False),
    ("  search p50, ms", ("warm_query_ms", "search", "p50"), False),
    ("    dense part p50, ms", ("warm_query_ms", "dense", "p50"), False),
    ("cold ask, s", ("cold_ask", "seconds"), False),
    ("cold ask peak RSS, MB", ("cold_ask", "peak_rss_mb"), False),
    ("peak RSS (build+queries), MB", ("process_peak_rss_mb",), False),
    ("index on disk, MB", ("index_mb",), False),
]


# Figures whose LangChain counterpart sits elsewhere: citebot's search is dense + BM25 + fusion +
# quote search; LangChain's is dense only, so the like-for-like figure is citebot's dense part.
LANGCHAIN_PATH: dict[str, tuple[str, ...]] = {"    dense part p50, ms": ("warm_query_ms", "search", "p50")}


def dig(d: dict[str, Any], path: tuple[str, ...]) -> float | None:
    for key in path:
        if not isinstance(d, dict) or key not in d:
            return None
        d = d[key]
    return d if isinstance(d, (int, float)) else None


def ratios(cb: dict[str, Any], lc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """citebot / LangChain per figure, and whether citebot is ahead on it."""
    out: dict[str, dict[str, Any]] = {}
    for label, path, higher in FIGURES:
        a, b = dig(cb, path), dig(lc, LANGCHAIN_PATH.get(label, path))
        if a is None or b is None or b == 0:
            continue
        out[label.strip()] = {"citebot": a, "langchain": b, "ratio": round(a / b, 4),
                              "citebot_ahead": (a > b) if higher else (a < b)}
    return out


def table(result: dict[str, Any]) -> str:
    lines = [f"corpus {result['corpus']}, backend {result['backend']}, load {result['machine']['loadavg']}",
             f"{'figure':32} {'citebot':>10} {'LangChain':>10} {'ratio':>8}"]
    cb, lc = result["citebot"], result.get("langchain") or {}
    for label, path, _ in FIGURES:
        a, b = dig(cb, path), dig(lc, LANGCHAIN_PATH.get(label, path))
        r = f"{a / b:8.3f}" if a is not None and b else ""
        lines.append(f"{label:32} {'' if a is None else f'{a:10.2f}'} {'' if b is None else f'{b:10.2f}':>10} {r}")
    return "\n".join(lines)


def _side(which: str, spec: dict[str, Any], work: Path) -> dict[str, Any]:
    spec_path = work / f"{which}-spec.json"
    out_path = work / f"{which}.json"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    child = run_child([sys.executable, "-m", "bench", "_side", which, str(spec_path), str(out_path)],
                      cwd=Path(__file__).resolve().parents[1])
    if child["code"] != 0:
        raise SystemExit(f"bench: the {which} side failed:\n{child['stderr']}")
    result = json.loads(out_path.read_text(encoding="utf-8"))
    result["process_peak_rss_mb"] = child["peak_rss_mb"]
    return result


def cmd_run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.work or (RESULTS / f"work-{args.corpus if '/' not in args.corpus else 'custom'}")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    sources = copy_sources(args.corpus, work / "sources")
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    before = machine()
    spec = {"corpus": args.corpus, "sources": str(sources), "index": str(work / "index"),
            "backend": args.backend, "cache": args.cache, "questions": args.questions,
            "chunks_out": str(work / "chunks.jsonl"), "edits": [1, 10], "cold_runs": args.cold_runs}
    result: dict[str, Any] = {"corpus": args.corpus, "backend": args.backend, "started": started, "machine": before}
    from .sides import cold_citebot, cold_langchain

    result["citebot"] = cb = _side("citebot", spec, work)
    cb["cold_ask"] = cold_citebot(spec, cb.pop("cold_questions"))
    if not args.skip_langchain:
        copy_sources(args.corpus, sources)  # the edits of the citebot run are undone
        lspec = {"corpus": args.corpus, "chunks_in": spec["chunks_out"], "store": str(work / "langchain"),
                 "questions": args.questions, "top_k": 3, "cold_runs": args.cold_runs}
        result["langchain"] = lc = _side("langchain", lspec, work)
        lc["cold_ask"] = cold_langchain(lspec, lc.pop("model_path"), lc.pop("cold_questions"))
        result["ratios"] = ratios(result["citebot"], result["langchain"])
    result["loadavg_after"] = list(os.getloadavg())
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="citebot and LangChain on one corpus")
    run.add_argument("--corpus", default="seeds", help="seeds, bbc, scifact or a folder")
    run.add_argument("--backend", default=os.environ.get("CITEBOT_BACKEND", "onnx-int8"),
                     choices=["torch", "onnx", "onnx-int8"])
    run.add_argument("--cache", default=os.environ.get("CITEBOT_CACHE"), help="ONNX export cache")
    run.add_argument("--work", default=None, help="folder for copies and indexes (default under bench/results)")
    run.add_argument("--questions", type=int, default=200)
    run.add_argument("--skip-langchain", action="store_true")
    run.add_argument("--cold-runs", type=int, default=3, help="cold `ask` processes per side (median)")
    run.add_argument("--out", default=None, help="JSON result path")

    side = sub.add_parser("_side", help=argparse.SUPPRESS)
    side.add_argument("which", choices=["citebot", "langchain"])
    side.add_argument("spec")
    side.add_argument("out")

    from . import backends, burst, ready, scale

    ready.add_parser(sub)
    scale.add_parser(sub)
    backends.add_parser(sub)
    burst.add_parser(sub)
    args = parser.parse_args(argv)

    if args.command == "_side":
        from .sides import SIDES

        spec = json.loads(Path(args.spec).read_text(encoding="utf-8"))
        Path(args.out).write_text(json.dumps(SIDES[args.which](spec)), encoding="utf-8")
        return
    if args.command == "run":
        result = cmd_run(args)
        print(table(result))
        name = f"{Path(args.corpus).name}-{args.backend}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    else:
        result = args.handler(args)
        print(json.dumps({k: v for k, v in result.items() if k != "machine"}, indent=1))
        name = f"{args.command}-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out = Path(args.out) if getattr(args, "out", None) else RESULTS / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
