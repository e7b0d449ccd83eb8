"""Build or update the index from the sources folder, re-embedding only what changed.

Vectors are reused by the hash of exactly what was embedded (model + text), so an edited article
costs only its changed passages; a model or chunking change rebuilds everything and says why.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from . import store
from .chunking import SPLITTER_VERSION, chunk_document
from .config import Settings
from .embedding import Embedder, load_embedder
from .errors import IndexCorrupt, SourcesError
from .lexical import Bm25Index
from .records import BuildReport, Chunk, Document
from .sources import LoadedSources, load_sources
from .vectors import APPROX_THRESHOLD, FaissIndex

EMBED_VERSION = 1  # bump when what is embedded for a chunk changes
TITLE_CHARS = 200


def embed_input(chunk_text: str, title: str | None) -> str:
    """What the model reads for a chunk: the title gives a passage deep in an article its topic."""
    if title and not chunk_text.startswith(title[:40]):
        return f"{title[:TITLE_CHARS]}\n{chunk_text}"
    return chunk_text


def chunk_hash(model: str, text: str) -> bytes:
    return hashlib.blake2b(f"{model}\0{text}".encode(), digest_size=16).digest()


def doc_hash(doc: Document) -> str:
    payload = json.dumps([doc.meta(), doc.text], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def index_params(settings: Settings) -> dict[str, Any]:
    """The manifest fields that, when changed, make every stored vector or chunk invalid."""
    return {
        "model": settings.model,
        "chunk_size": settings.chunk_size,
        "chunk_overlap": settings.chunk_overlap,
        "splitter_version": SPLITTER_VERSION,
        "embed_version": EMBED_VERSION,
        "backend": settings.backend,  # fp32 and int8 vectors must never be mixed in one index
    }


def _rebuild_reason(manifest: dict[str, Any], settings: Settings) -> str | None:
    wanted = index_params(settings)
    for key, value in wanted.items():
        if manifest.get(key) != value:
            return f"{key} changed ({manifest.get(key)!r} -> {value!r})"
    return None


def stale_reason(settings: Settings, loaded: LoadedSources | None = None) -> str | None:
    """Why the index needs a build (missing, other parameters, sources changed), or None."""
    try:
        gen = store.current_path(settings.index)
        if gen is None:
            return "no index yet"
        manifest = store.read_manifest(gen)
    except IndexCorrupt as exc:
        return f"the index is unreadable ({exc.problem})"
    reason = _rebuild_reason(manifest, settings)
    if reason:
        return reason
    loaded = loaded or load_sources(settings.sources, settings.max_file_mb)
    if {f.rel: f.sha256 for f in loaded.files} != manifest.get("files"):
        return "sources changed"
    return None


def build_index(
    settings: Settings,
    embedder: Embedder | Callable[[], Embedder] | None = None,
    rebuild: bool = False,
    progress: bool = False,
) -> tuple[BuildReport, store.IndexData]:
    """Bring the index in line with the sources folder; returns what changed and the live index."""
    started = time.perf_counter()
    loaded = load_sources(settings.sources, settings.max_file_mb)
    report = BuildReport(skipped=list(loaded.skipped))
    if not loaded.documents:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in loaded.skipped[:5])
        raise SourcesError(
            f"no readable documents in {settings.sources}" + (f" (skipped {reasons})" if reasons else "")
        )
    with store.build_lock(settings.index):
        old, report.rebuilt_reason = _previous_index(settings, rebuild)
        if old is not None and {f.rel: f.sha256 for f in loaded.files} == old.manifest.get("files"):
            report.documents = len(old.documents)
            report.chunks = len(old)
            report.unchanged = len(old.documents)
            report.reused_chunks = len(old)
            report.seconds = time.perf_counter() - started
            return report, old

        if embedder is None:
            model: Embedder = load_embedder(settings.model, settings.backend, settings.cache)
        elif callable(embedder) and not hasattr(embedder, "encode"):
            model = embedder()
        else:
            model = embedder  # type: ignore[assignment]
        data = _assemble(settings, loaded, old, model, report, progress)
        store.write_index(settings.index, data)
        store.prune(settings.index)
        report.switched = True
        report.seconds = time.perf_counter() - started
        return report, data


def _previous_index(settings: Settings, rebuild: bool) -> tuple[store.IndexData | None, str | None]:
    """The live index whose vectors can be reused, or None and why everything is re-embedded.

    `rebuild` never reads the live generation: it is the way out of one too damaged to read."""
    if rebuild:
        return None, "--rebuild"
    try:
        old = store.read_index(settings.index)
    except store.IndexMissing:
        return None, None
    except IndexCorrupt as exc:
        return None, f"previous index unreadable: {exc.problem}"
    reason = _rebuild_reason(old.manifest, settings)
    return (None, reason) if reason else (old, None)


def _digest(stored: bytes) -> bytes:
    """A chunk hash as stored in the index, back to its 16 bytes: numpy's S16 drops trailing NULs
    (padding back keeps 1 hash in 256 from never being reused)."""
    return bytes(stored).ljust(16, b"\0")


def _old_chunk_spans(old: store.IndexData | None) -> tuple[dict[str, int], list[list[tuple[int, int, bytes]]]]:
    """Per source of the old index, its chunks' (start, end, hash) in order."""
    if old is None:
        return {}, []
    spans: list[list[tuple[int, int, bytes]]] = [[] for _ in old.documents]
    for d, a, b, hh in zip(
        old.chunk_doc.tolist(), old.chunk_start.tolist(), old.chunk_end.tolist(), old.chunk_hash.tolist(), strict=True
    ):
        spans[d].append((a, b, _digest(hh)))
    return {d["source"]: i for i, d in enumerate(old.documents)}, spans


def _assemble(
    settings: Settings,
    loaded: LoadedSources,
    old: store.IndexData | None,
    model: Embedder,
    report: BuildReport,
    progress: bool,
) -> store.IndexData:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    old_docs = {d["source"]: d for d in old.documents} if old is not None else {}
    file_of = {}
    for f in loaded.files:
        file_of[f.rel] = f
    documents: list[dict[str, Any]] = []
    chunks: list[Chunk] = []
    chunk_doc: list[int] = []
    inputs: list[str] = []
    known_hashes: list[bytes | None] = []  # None: hashed below
    old_rows, old_spans = _old_chunk_spans(old)
    for doc in loaded.documents:
        h = doc_hash(doc)
        previous = old_docs.get(doc.source)
        if previous is None:
            report.added.append(doc.source)
        elif previous.get("sha256") != h:
            report.changed.append(doc.source)
        else:
            report.unchanged += 1
        record = doc.meta()
        record.update(
            text=doc.text,
            sha256=h,
            indexed_at=previous["indexed_at"] if previous and previous.get("sha256") == h else now,
        )
        same = previous is not None and previous.get("sha256") == h and doc.source in old_rows
        if same:
            # Unchanged text, title, model and chunking (else `old` would be None): the old chunks
            # are what chunking would give again. Re-chunking counted the tokens of every chunk of
            # every source, most of the time of a one-article update.
            assert old is not None
            doc_chunks = [Chunk(doc.source, a, b, doc.text[a:b]) for a, b, _ in old_spans[old_rows[doc.source]]]
            doc_hashes: list[bytes | None] = [hh for _, _, hh in old_spans[old_rows[doc.source]]]
        else:
            title_budget = model.count_tokens(doc.title[:TITLE_CHARS]) if doc.title else 0
            doc_chunks = chunk_document(
                doc,
                settings.chunk_size,
                settings.chunk_overlap,
                count_tokens=model.count_tokens,
                max_tokens=max(32, model.max_tokens - title_budget),
            )
            doc_hashes = [None] * len(doc_chunks)
        if not doc_chunks:
            continue
        row = len(documents)
        documents.append(record)
        for c, hh in zip(doc_chunks, doc_hashes, strict=True):
            chunks.append(c)
            chunk_doc.append(row)
            inputs.append(embed_input(c.text, doc.title))
            known_hashes.append(hh)
    current = {d["source"] for d in documents}
    report.removed = sorted(s for s in old_docs if s not in current)

    hashes = [
        hh if hh is not None else chunk_hash(settings.model, t) for hh, t in zip(known_hashes, inputs, strict=True)
    ]
    reuse: dict[bytes, int] = {}
    old_vectors = None
    if old is not None:
        old_vectors = old.dense.vectors()
        reuse = {_digest(h): i for i, h in enumerate(old.chunk_hash)}
    todo: dict[bytes, int] = {}
    for i, h in enumerate(hashes):
        if h not in reuse and h not in todo:
            todo[h] = i
    fresh = model.encode([inputs[i] for i in todo.values()], settings.batch_size, progress)
    fresh_row = {h: j for j, h in enumerate(todo)}
    vectors = np.zeros((len(hashes), model.dim), dtype=np.float32)
    for i, h in enumerate(hashes):
        if h in fresh_row:
            vectors[i] = fresh[fresh_row[h]]
        else:
            assert old_vectors is not None
            vectors[i] = old_vectors[reuse[h]]
    report.embedded_chunks = len(todo)
    report.reused_chunks = len(hashes) - sum(1 for h in hashes if h in fresh_row)
    report.documents = len(documents)
    report.chunks = len(chunks)

    dense = FaissIndex.from_vectors(vectors, model.dim, APPROX_THRESHOLD)
    bm25 = Bm25Index.build(inputs) if inputs else None
    manifest = index_params(settings) | {
        "format": store.FORMAT_VERSION,
        "dim": model.dim,
        "max_tokens": model.max_tokens,
        "built_at": now,
        "documents": len(documents),
        "chunks": len(chunks),
        "index_type": type(dense.index).__name__,
        "dense_tuning": dense.tuning.to_dict(),  # exact or IVF, and the recall@10 it was chosen at
        "files": {f.rel: f.sha256 for f in loaded.files},
    }
    return store.IndexData(
        manifest=manifest,
        documents=documents,
        chunk_doc=np.asarray(chunk_doc, dtype=np.int32),
        chunk_start=np.asarray([c.start for c in chunks], dtype=np.int64),
        chunk_end=np.asarray([c.end for c in chunks], dtype=np.int64),
        chunk_hash=np.asarray(hashes, dtype="S16"),
        dense=dense,
        bm25=bm25,
    )
