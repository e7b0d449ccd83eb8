"""The index folder on disk: generations written beside the live one, switched by a pointer file.

Layout: `index/CURRENT` names the live generation `index/gen-<stamp>/`, which holds
`manifest.json`, `documents.jsonl`, `chunks.npz` (offsets and hashes, no pickle), `dense.faiss`
and `bm25/`. The manifest records the sha256 of every other file, checked before numpy, FAISS or
bm25s parse one (generations written before that are checked by size and structure only). A build
writes `index/.tmp-<stamp>/`, renames it to a generation and then replaces `CURRENT` with
`os.replace`, so a reader sees the old index or the new one, never half of one; a build killed at
any point leaves the old generation live.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BuildLocked, IndexCorrupt, IndexMissing, IndexPathError
from .lexical import Bm25Index
from .vectors import FaissIndex

FORMAT_VERSION = 1
POINTER = "CURRENT"
FILES = ("manifest.json", "documents.jsonl", "chunks.npz", "dense.faiss")
DIGESTS = "file_sha256"  # manifest key: path in the generation -> sha256; absent in older generations


@dataclass
class IndexData:
    """Everything one generation holds, in memory."""

    manifest: dict[str, Any]
    documents: list[dict[str, Any]]  # Document.meta() + text, sha256, file, indexed_at
    chunk_doc: np.ndarray  # int32: row in `documents`
    chunk_start: np.ndarray  # int64 offsets into the document text
    chunk_end: np.ndarray
    chunk_hash: np.ndarray  # S16: digest of what was embedded, the key for reusing vectors
    dense: FaissIndex
    bm25: Bm25Index | None = None
    path: Path | None = None
    doc_rows: dict[str, int] = field(default_factory=dict)
    word_forms: dict[str, str] = field(default_factory=dict)  # casing.truecase's memo: word -> spelling
    fold_keys: dict[int, int] = field(default_factory=dict)  # answers._merge's memo: chunk -> folded-text hash

    def __post_init__(self) -> None:
        self.doc_rows = {d["source"]: i for i, d in enumerate(self.documents)}

    def __len__(self) -> int:
        return len(self.chunk_doc)

    def chunk_text(self, i: int) -> str:
        doc = self.documents[int(self.chunk_doc[i])]
        return doc["text"][int(self.chunk_start[i]) : int(self.chunk_end[i])]


def _write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1), encoding="utf-8")


def _sha256(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _check_root(root: Path) -> None:
    """Refuse an index path that is a file, or whose pointer is not a file: replacing either would
    destroy something citebot did not write."""
    if root.exists() and not root.is_dir():
        raise IndexPathError(f"index path {root} is a file, not a folder")
    pointer = root / POINTER
    if pointer.exists() and not pointer.is_file():
        raise IndexPathError(f"index pointer {pointer} is not a file; move it away, then run `citebot index`")


def current_path(root: Path) -> Path | None:
    """The live generation, or None when no index has been built."""
    _check_root(root)
    pointer = root / POINTER
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise IndexCorrupt(f"index pointer {pointer} cannot be read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise IndexCorrupt(f"index pointer {pointer} is damaged") from None
    if not name or "/" in name or "\0" in name or name.startswith("."):
        raise IndexCorrupt(f"index pointer {pointer} is damaged")
    path = root / name
    if not path.is_dir():
        raise IndexCorrupt(f"index pointer {pointer} names a missing folder {path}")
    return path


def read_manifest(gen: Path) -> dict[str, Any]:
    path = gen / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorrupt(f"index file {path} is missing") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(f"index file {path} is damaged ({type(exc).__name__})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        found = manifest.get("format") if isinstance(manifest, dict) else "?"
        raise IndexCorrupt(f"index file {path} has format {found}, expected {FORMAT_VERSION}")
    return manifest


def _check_files(gen: Path, manifest: dict[str, Any]) -> None:
    """Every file present, with the size and sha256 the manifest recorded, before any parser sees it
    (garbage of the right size made numpy, FAISS and bm25s raise or return nonsense)."""
    sizes, digests = manifest.get("file_sizes", {}), manifest.get(DIGESTS, {})
    if not isinstance(sizes, dict) or not isinstance(digests, dict):
        raise IndexCorrupt(f"index file {gen / 'manifest.json'} is damaged (file list)")
    for name in dict.fromkeys([*FILES, *digests]):
        path = gen / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise IndexCorrupt(f"index file {gen / 'manifest.json'} is damaged (file {name!r})")
        if not path.is_file():
            raise IndexCorrupt(f"index file {path} is missing")
        if name in sizes and path.stat().st_size != sizes[name]:
            raise IndexCorrupt(f"index file {path} is truncated or altered (size differs from the manifest)")
    for name, digest in digests.items():
        path = gen / name
        try:
            actual = _sha256(path)
        except OSError as exc:
            raise IndexCorrupt(f"index file {path} cannot be read: {exc.strerror}") from None
        if actual != digest:
            raise IndexCorrupt(f"index file {path} is damaged (checksum differs from the manifest)")


def _check_chunks(gen: Path, documents: list[Any], doc: np.ndarray, start: np.ndarray, end: np.ndarray) -> None:
    """Chunk spans inside their documents: what an index without checksums relies on to fail here,
    not with an IndexError in the middle of a question."""
    if not all(
        isinstance(d, dict) and isinstance(d.get("source"), str) and isinstance(d.get("text"), str) for d in documents
    ):
        raise IndexCorrupt(f"index file {gen / 'documents.jsonl'} is damaged (a record lacks its source or text)")
    if any(a.ndim != 1 or a.dtype.kind not in "iu" for a in (doc, start, end)):
        raise IndexCorrupt(f"index file {gen / 'chunks.npz'} is damaged (arrays of the wrong type)")
    if not len(doc):
        return
    if int(doc.min()) < 0 or int(doc.max()) >= len(documents):
        raise IndexCorrupt(f"index file {gen / 'documents.jsonl'} does not match the chunks")
    lengths = np.fromiter((len(d["text"]) for d in documents), dtype=np.int64, count=len(documents))
    if not bool(((start >= 0) & (start <= end) & (end <= lengths[doc])).all()):
        raise IndexCorrupt(f"index file {gen / 'chunks.npz'} is damaged (chunk spans outside their documents)")


def read_index(root: Path) -> IndexData:
    """Load the live generation, checking every file against the manifest before trusting it."""
    gen = current_path(root)
    if gen is None:
        raise IndexMissing(f"no index in {root}: build it with `citebot index`")
    manifest = read_manifest(gen)
    _check_files(gen, manifest)
    docs_path = gen / "documents.jsonl"
    try:
        with docs_path.open(encoding="utf-8") as fh:
            documents = [json.loads(line) for line in fh if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorrupt(f"index file {docs_path} is damaged ({type(exc).__name__})") from None
    chunks_path = gen / "chunks.npz"
    try:
        with np.load(chunks_path, allow_pickle=False) as z:
            chunk_doc, chunk_start, chunk_end, chunk_hash = (z["doc"], z["start"], z["end"], z["hash"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as exc:
        raise IndexCorrupt(f"index file {chunks_path} is damaged ({type(exc).__name__})") from None
    dense = FaissIndex.load(gen / "dense.faiss")
    n = int(manifest.get("chunks", -1))
    if not (len(chunk_doc) == len(chunk_start) == len(chunk_end) == len(chunk_hash) == len(dense) == n):
        raise IndexCorrupt(f"index in {gen} is inconsistent: chunk counts differ between files")
    if len(documents) != manifest.get("documents"):
        raise IndexCorrupt(f"index file {docs_path} does not match the chunks")
    _check_chunks(gen, documents, chunk_doc, chunk_start, chunk_end)
    if dense.dim != manifest.get("dim"):
        raise IndexCorrupt(
            f"index file {gen / 'dense.faiss'} has dimension {dense.dim}, manifest says {manifest.get('dim')}"
        )
    bm25 = Bm25Index.load(gen / "bm25", n) if (gen / "bm25").is_dir() and n else None
    return IndexData(manifest, documents, chunk_doc, chunk_start, chunk_end, chunk_hash, dense, bm25, gen)


def write_index(root: Path, data: IndexData) -> Path:
    """Write a new generation beside the live one and switch to it atomically."""
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = root / f".tmp-{stamp}"
    tmp.mkdir()
    try:
        with (tmp / "documents.jsonl").open("w", encoding="utf-8") as fh:
            for doc in data.documents:
                fh.write(json.dumps(doc, ensure_ascii=False) + "\n")
        np.savez(
            tmp / "chunks.npz",
            doc=data.chunk_doc.astype(np.int32),
            start=data.chunk_start.astype(np.int64),
            end=data.chunk_end.astype(np.int64),
            hash=data.chunk_hash.astype("S16"),
        )
        data.dense.save(tmp / "dense.faiss")
        if data.bm25 is not None:
            data.bm25.save(tmp / "bm25")
        manifest = dict(data.manifest)
        manifest["file_sizes"] = {name: (tmp / name).stat().st_size for name in FILES if name != "manifest.json"}
        written = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
        manifest[DIGESTS] = {name: _sha256(tmp / name) for name in written if name != "manifest.json"}
        _write_json(tmp / "manifest.json", manifest)
        for path in tmp.rglob("*"):
            if path.is_file():
                with path.open("rb") as fh:
                    os.fsync(fh.fileno())
        gen = root / f"gen-{stamp}"
        os.rename(tmp, gen)
        pointer_tmp = root / f".{POINTER}.{stamp}"
        pointer_tmp.write_text(gen.name + "\n", encoding="utf-8")
        with pointer_tmp.open("rb") as fh:
            os.fsync(fh.fileno())
        os.replace(pointer_tmp, root / POINTER)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    data.path = gen
    return gen


def prune(root: Path, keep: int = 2) -> None:
    """Drop old generations (keeping the live one and the one before) and leftovers of killed builds."""
    live = current_path(root)
    gens = sorted((p for p in root.glob("gen-*") if p.is_dir()), key=lambda p: p.name)
    old = [g for g in gens if g != live][: max(0, len(gens) - keep)]
    for path in old + list(root.glob(".tmp-*")) + list(root.glob(f".{POINTER}.*")):
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """One writer per index folder; a second build fails fast instead of racing the first."""
    _check_root(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = (root / ".lock").open("w")
    except OSError as exc:
        raise IndexPathError(f"index folder {root} cannot be written: {exc.strerror}") from None
    with lock as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLocked(f"another build is writing {root}; try again when it finishes") from None
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
