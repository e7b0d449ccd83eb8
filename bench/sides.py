"""The two pipelines measured side by side, each in its own child process (clean peak RSS).

citebot: `build_index` / `Engine` exactly as the CLI and the bot use them.
LangChain: `FAISS.from_documents` with `HuggingFaceEmbeddings` over the same model and the very
chunk texts citebot embedded (exported by the citebot side), `similarity_search_with_score`,
`save_local` / `load_local`. Its `load_local` unpickles `index.pkl`: it is only ever pointed at
the folder this benchmark wrote a moment before.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from .corpora import edit_documents, questions
from .measure import folder_bytes, peak_rss_mb, run_child, summary_ms

SAMPLE_FOR_MODEL_RATE = 256


def _settings(spec: dict[str, Any]):  # type: ignore[no-untyped-def]
    from bot.config import Settings

    return Settings(sources=Path(spec["sources"]), index=Path(spec["index"]), backend=spec["backend"],
                    cache=Path(spec["cache"]) if spec.get("cache") else None)


def citebot_side(spec: dict[str, Any]) -> dict[str, Any]:
    from bot.embedding import load_embedder
    from bot.engine import Engine
    from bot.indexing import TITLE_CHARS, build_index, embed_input

    out: dict[str, Any] = {"backend": spec["backend"]}
    settings = _settings(spec)
    t = time.perf_counter()
    model = load_embedder(settings.model, settings.backend, settings.cache)
    out["model_load_s"] = round(time.perf_counter() - t, 3)

    report, data = build_index(settings, embedder=model, rebuild=True)
    out["full_build"] = {"seconds": round(report.seconds, 3), "documents": report.documents,
                         "chunks": report.chunks, "embedded": report.embedded_chunks,
                         "chunks_per_s": round(report.embedded_chunks / report.seconds, 2)}
    out["dense_tuning"] = data.dense.tuning.to_dict()
    inputs = []
    with open(spec["chunks_out"], "w", encoding="utf-8") as fh:
        for i in range(len(data)):
            doc = data.documents[int(data.chunk_doc[i])]
            text = embed_input(data.chunk_text(i), (doc.get("title") or "")[:TITLE_CHARS] or None)
            inputs.append(text)
            fh.write(json.dumps({"text": text, "source": doc["source"], "start": int(data.chunk_start[i]),
                                 "end": int(data.chunk_end[i])}, ensure_ascii=False) + "\n")
    sample = inputs[:: max(1, len(inputs) // SAMPLE_FOR_MODEL_RATE)][:SAMPLE_FOR_MODEL_RATE]
    t = time.perf_counter()
    model.encode(sample, settings.batch_size)
    rate = len(sample) / (time.perf_counter() - t)
    out["model_encode_per_s"] = round(rate, 2)
    out["pipeline_share_of_model_rate"] = round(out["full_build"]["chunks_per_s"] / rate, 3)
    out["index_mb"] = round(folder_bytes(data.path) / 1e6, 2)

    t = time.perf_counter()
    report, data = build_index(settings, embedder=model)
    out["noop_update_s"] = round(time.perf_counter() - t, 3)
    for round_, count in enumerate(spec.get("edits", [1, 10]), start=1):
        edited = edit_documents(Path(spec["sources"]), count, round_)
        report, data = build_index(settings, embedder=model)
        out[f"update_{count}_docs"] = {"seconds": round(report.seconds, 3), "embedded": report.embedded_chunks,
                                       "reused": report.reused_chunks, "changed": len(report.changed),
                                       "edited": len(edited)}

    engine = Engine(settings, data, model)
    texts = [data.chunk_text(i) for i in range(0, len(data), max(1, len(data) // 2000))]
    qs = questions(spec["corpus"], texts, spec.get("questions", 200))
    from bot.presentation import citation

    for q in qs[:5]:
        engine.ask(q)
    stages: dict[str, list[float]] = {"embed": [], "search": [], "dense": [], "compose": [], "render": [], "total": []}
    for q in qs:
        t0 = time.perf_counter()
        answer = engine.ask(q)
        t1 = time.perf_counter()
        rendered = json.dumps(answer.to_dict(), ensure_ascii=False) + "".join(citation(p) for p in answer.passages)
        t2 = time.perf_counter()
        assert rendered
        tm = engine.last_timings
        stages["embed"].append(tm.embed)
        stages["search"].append(tm.search)
        stages["dense"].append(tm.dense)
        stages["compose"].append(tm.compose)
        stages["render"].append((t2 - t1) * 1e3)
        stages["total"].append((t2 - t0) * 1e3)
    out["warm_query_ms"] = {k: summary_ms(v) for k, v in stages.items()}
    out["questions"] = len(qs)
    out["peak_rss_mb"] = peak_rss_mb()

    out["cold_questions"] = qs[: max(1, spec.get("cold_runs", 3))]
    return out


LANGCHAIN_COLD = """
import sys, time, warnings
warnings.filterwarnings("ignore")
from langchain_community.embeddings import HuggingFaceEmbeddings
from langchain_community.vectorstores import FAISS
emb = HuggingFaceEmbeddings(model_name=sys.argv[2], model_kwargs={"device": "cpu"},
                            encode_kwargs={"normalize_embeddings": True})
store = FAISS.load_local(sys.argv[1], emb, allow_dangerous_deserialization=True)  # written by this benchmark
print(store.similarity_search_with_score(sys.argv[3], k=int(sys.argv[4]))[0][0].metadata["source"])
"""


def cold_citebot(spec: dict[str, Any], questions_: list[str]) -> dict[str, Any]:
    """`citebot ask` in fresh processes, started from the small parent so RSS is the child's own."""
    env = dict(os.environ, CITEBOT_SOURCES=spec["sources"], CITEBOT_INDEX=spec["index"],
               CITEBOT_BACKEND=spec["backend"], TOKENIZERS_PARALLELISM="false")
    if spec.get("cache"):
        env["CITEBOT_CACHE"] = spec["cache"]
    cold = [run_child([sys.executable, "-m", "bot.cli", "ask", q, "--json"], env=env) for q in questions_]
    if any(c["code"] != 0 for c in cold):
        raise SystemExit(f"bench: cold citebot ask failed: {cold[0]['stderr'][-500:]}")
    return {"seconds": sorted(c["seconds"] for c in cold)[len(cold) // 2], "peak_rss_mb": max(c["peak_rss_mb"] for c in cold)}


def cold_langchain(spec: dict[str, Any], model_path: str, questions_: list[str]) -> dict[str, Any]:
    """LangChain's load_local + one query in fresh processes (the store folder this run wrote)."""
    cold = [run_child([sys.executable, "-c", LANGCHAIN_COLD, spec["store"], model_path, q, str(spec.get("top_k", 3))])
            for q in questions_]
    if any(c["code"] != 0 for c in cold):
        raise SystemExit(f"bench: cold LangChain query failed: {cold[0]['stderr'][-500:]}")
    return {"seconds": sorted(c["seconds"] for c in cold)[len(cold) // 2], "peak_rss_mb": max(c["peak_rss_mb"] for c in cold)}


def langchain_side(spec: dict[str, Any]) -> dict[str, Any]:
    import warnings

    warnings.filterwarnings("ignore")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    from langchain_community.embeddings import HuggingFaceEmbeddings
    from langchain_community.vectorstores import FAISS
    from langchain_core.documents import Document

    from bot.embedding import resolve_model

    model_path = resolve_model(spec.get("model", "packaged:all-MiniLM-L6-v2"))
    out: dict[str, Any] = {}
    with open(spec["chunks_in"], encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    docs = [Document(page_content=r["text"], metadata={k: r[k] for k in ("source", "start", "end")}) for r in rows]
    t = time.perf_counter()
    emb = HuggingFaceEmbeddings(model_name=model_path, model_kwargs={"device": "cpu"},
                                encode_kwargs={"normalize_embeddings": True, "batch_size": 32})
    out["model_load_s"] = round(time.perf_counter() - t, 3)
    t = time.perf_counter()
    store = FAISS.from_documents(docs, emb)
    seconds = time.perf_counter() - t
    out["full_build"] = {"seconds": round(seconds, 3), "chunks": len(docs), "chunks_per_s": round(len(docs) / seconds, 2)}
    folder = Path(spec["store"])
    store.save_local(str(folder))
    out["index_mb"] = round(folder_bytes(folder) / 1e6, 2)
    # LangChain's FAISS store has no notion of changed sources: updating means rebuilding.
    out["update_1_docs"] = {"seconds": out["full_build"]["seconds"], "how": "full rebuild"}
    out["update_10_docs"] = {"seconds": out["full_build"]["seconds"], "how": "full rebuild"}
    t = time.perf_counter()
    store = FAISS.load_local(str(folder), emb, allow_dangerous_deserialization=True)  # the file written above
    out["load_s"] = round(time.perf_counter() - t, 3)

    qs = questions(spec["corpus"], [r["text"] for r in rows[:: max(1, len(rows) // 2000)]], spec.get("questions", 200))
    k = spec.get("top_k", 3)
    for q in qs[:5]:
        store.similarity_search_with_score(q, k=k)
    stages: dict[str, list[float]] = {"embed": [], "search": [], "total": []}
    for q in qs:
        t0 = time.perf_counter()
        vec = emb.embed_query(q)
        t1 = time.perf_counter()
        hits = store.similarity_search_with_score_by_vector(vec, k=k)
        t2 = time.perf_counter()
        assert hits
        stages["embed"].append((t1 - t0) * 1e3)
        stages["search"].append((t2 - t1) * 1e3)
        stages["total"].append((t2 - t0) * 1e3)
    out["warm_query_ms"] = {k_: summary_ms(v) for k_, v in stages.items()}
    out["questions"] = len(qs)
    out["peak_rss_mb"] = peak_rss_mb()
    out["cold_questions"] = qs[: max(1, spec.get("cold_runs", 3))]
    out["model_path"] = model_path
    return out


SIDES = {"citebot": citebot_side, "langchain": langchain_side}
