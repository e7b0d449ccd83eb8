"""The dense vector index behind a small interface, so another store (pgvector) can stand in later.

FAISS inner product on normalized vectors is cosine similarity. Below `APPROX_THRESHOLD` vectors
search is exact (a flat scan: ~5 ms per 100k vectors and core on an idle machine, several times
that on a busy one). Above it an IVF index (k-means cells, `nprobe` of them scanned per query)
takes over, and `nprobe` is chosen by measurement: the smallest value whose recall@10 against
exact search, on held-out perturbed queries, is >= `TARGET_RECALL`; if none reaches it the index
stays exact. IVF-Flat was picked over HNSW because it builds in about a minute at 1M vectors on
two cores where HNSW took minutes per 100k, and over IVF-PQ because stored vectors must be read
back (incremental builds reuse them).

Vectors are stored as float16 (faiss scalar quantizer `QT_fp16`): half the disk and memory of
float32, scores within ~1e-4 of float32 (rankings identical on the test sets), and the flat scan
is faster, not slower (less memory to stream). Indexes written as float32 by earlier versions
still load and search.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import faiss
import numpy as np

from .errors import IndexCorrupt

APPROX_THRESHOLD = 50_000
TARGET_RECALL = 0.95
RECALL_MARGIN = 0.03  # probes ran 0.02-0.03 above real questions at 100k and 1M (bench scale)
RECALL_K = 10
PROBE_QUERIES = 500
NPROBE_STEPS = (1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
PROBE_PUSH = 2.0  # calibrated on real questions, see `probe_queries`
TRAIN_PER_CELL = 40  # k-means training points per cell (faiss warns below 39)
SMALL_BATCH = 4  # up to this many queries, search on one thread (see `search`)


@dataclass
class Tuning:
    """How the approximate index was chosen, recorded for the manifest and the benchmark."""

    kind: str  # "flat" or "ivf"
    nlist: int = 0
    nprobe: int = 0
    recall_at_10: float = 1.0  # measured against exact search; 1.0 for flat
    probe_queries: int = 0
    bytes_per_vector: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class VectorIndex(Protocol):
    dim: int

    def __len__(self) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def vectors(self) -> np.ndarray: ...

    def vectors_of(self, ids: np.ndarray) -> np.ndarray: ...

    def save(self, path: Path) -> None: ...


def probe_queries(vectors: np.ndarray, n: int = PROBE_QUERIES, seed: int = 0) -> np.ndarray:
    """Held-out stand-ins for questions: stored vectors pushed away along the data's own directions.

    A stored vector as its own query is found trivially, and isotropic noise barely moves it (it is
    orthogonal to the span the passages live in). The push here is a random direction inside that
    span, twice the vector's length: on the BBC index these probes reproduce the recall@10 curve of
    300 real questions over nprobe (0.36/0.50/0.64/0.77/0.87/0.94 against 0.39/0.53/0.65/0.77/0.86/0.93
    at 1..32 probes) and their best-passage cosine (0.46 vs 0.54); the easier isotropic probes
    reported 0.97 where real questions got 0.42.
    """
    rng = np.random.default_rng(seed)
    m = min(n, len(vectors))
    rows = rng.choice(len(vectors), size=m, replace=False)
    span = vectors[rng.choice(len(vectors), size=min(64, len(vectors)), replace=False)]
    span = span - vectors[rng.choice(len(vectors), size=min(4096, len(vectors)), replace=False)].mean(0)
    push = rng.standard_normal((m, len(span))).astype(np.float32) @ span
    push /= np.maximum(np.linalg.norm(push, axis=1, keepdims=True), 1e-12)
    queries = vectors[rows] + PROBE_PUSH * push
    queries /= np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(queries, dtype=np.float32)


def recall_at_k(found: np.ndarray, truth: np.ndarray, k: int = RECALL_K) -> float:
    """Mean share of the exact top-k that the approximate top-k also holds."""
    hits = sum(len(set(f[:k].tolist()) & set(t[:k].tolist())) for f, t in zip(found, truth, strict=True))
    return hits / (k * len(truth)) if len(truth) else 1.0


STORAGE = faiss.ScalarQuantizer.QT_fp16
BYTES_PER_COMPONENT = 2


def _ivf(vectors: np.ndarray, dim: int, seed: int) -> faiss.IndexIVFScalarQuantizer:
    n = len(vectors)
    nlist = max(16, int(4 * math.sqrt(n)))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, STORAGE, faiss.METRIC_INNER_PRODUCT)
    index.by_residual = False  # store fp16(vector) itself: read back as stored, re-stored unchanged
    index.cp.niter = 12
    index.cp.seed = seed
    rng = np.random.default_rng(seed)
    sample = vectors[np.sort(rng.choice(n, size=min(n, TRAIN_PER_CELL * nlist), replace=False))]
    index.train(np.ascontiguousarray(sample))
    index.add(vectors)
    index.make_direct_map()  # so `reconstruct` (fusion, vector reuse) works
    return index


def _flat(vectors: np.ndarray, dim: int) -> faiss.IndexScalarQuantizer:
    index = faiss.IndexScalarQuantizer(dim, STORAGE, faiss.METRIC_INNER_PRODUCT)
    if len(vectors):
        index.add(vectors)
    return index


def _flat_bytes(dim: int, per_component: float = BYTES_PER_COMPONENT) -> float:
    return per_component * dim


class FaissIndex:
    """A FAISS index (flat, or IVF above a threshold) whose stored vectors can be read back for reuse."""

    def __init__(self, index: faiss.Index, tuning: Tuning | None = None) -> None:
        self.index = index
        self.dim = int(index.d)
        self.tuning = tuning or _describe(index)
        self._table: np.ndarray | None = None

    @classmethod
    def from_vectors(
        cls,
        vectors: np.ndarray,
        dim: int,
        approx_threshold: int = APPROX_THRESHOLD,
        target_recall: float = TARGET_RECALL,
        seed: int = 0,
    ) -> FaissIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
        if len(vectors) < max(approx_threshold, 2 * RECALL_K):
            return cls(_flat(vectors, dim))
        approx = _ivf(vectors, dim, seed)
        queries = probe_queries(vectors, seed=seed)
        _, truth = faiss.knn(queries, vectors, RECALL_K, metric=faiss.METRIC_INNER_PRODUCT)
        for nprobe in NPROBE_STEPS:
            if nprobe > approx.nlist:
                break
            approx.nprobe = nprobe
            _, found = approx.search(queries, RECALL_K)
            recall = recall_at_k(found, truth)
            if recall >= target_recall + RECALL_MARGIN:
                tuning = Tuning("ivf", approx.nlist, nprobe, round(recall, 4), len(queries), _ivf_bytes(approx))
                return cls(approx, tuning)
        del approx
        return cls(_flat(vectors, dim))  # no nprobe reached the target: exact search, slower but right

    @classmethod
    def load(cls, path: Path) -> FaissIndex:
        try:
            index = faiss.read_index(str(path))
        except (RuntimeError, MemoryError) as exc:  # MemoryError: a damaged header asked for terabytes
            first = (str(exc).splitlines() or [type(exc).__name__])[0]
            raise IndexCorrupt(f"index file {path} cannot be read: {first[:200]}") from None
        if isinstance(index, faiss.IndexIVF):
            index.make_direct_map()  # nprobe is stored in the file; the direct map is not
        return cls(index)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k by inner product. A question or two is searched on one thread: OpenMP's spin-waits
        made a single flat query 2-4x slower with two threads on a shared, busy machine."""
        k = min(k, len(self))
        if k <= 0:
            n = len(queries)
            return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        if len(queries) <= SMALL_BATCH:
            threads = faiss.omp_get_max_threads()
            faiss.omp_set_num_threads(1)
            try:
                return self.index.search(queries, k)
            finally:
                faiss.omp_set_num_threads(threads)
        return self.index.search(queries, k)

    def reconstruct(self, i: int) -> np.ndarray:
        return self.index.reconstruct(int(i))

    def vectors_of(self, ids: np.ndarray) -> np.ndarray:
        """Stored vectors of some ids, float32: how BM25-only candidates get their cosine.

        A flat index is read as a numpy view of its codes (a fancy-index, ~10 us for 100 ids);
        per-id `reconstruct` calls cost ~3 us each through SWIG, a third of a warm BBC search.
        """
        ids = np.asarray(ids, dtype=np.int64)
        if len(ids) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        table = self._flat_table()
        if table is not None:
            return table[ids].astype(np.float32)
        return self.index.reconstruct_batch(ids)

    def _flat_table(self) -> np.ndarray | None:
        """The stored vectors of a flat index as an (n, dim) array sharing faiss' memory, else None."""
        if self._table is not None and len(self._table) == len(self):
            return self._table
        index, n = self.index, len(self)
        if isinstance(index, faiss.IndexScalarQuantizer) and index.sq.qtype == STORAGE:
            codes = faiss.rev_swig_ptr(index.codes.data(), n * index.code_size)
            self._table = np.frombuffer(codes, dtype=np.float16).reshape(n, self.dim)
        elif isinstance(index, faiss.IndexFlat):
            self._table = faiss.rev_swig_ptr(index.get_xb(), n * self.dim).reshape(n, self.dim)
        return self._table

    def vectors(self) -> np.ndarray:
        if len(self) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_n(0, len(self))

    def memory_bytes(self) -> int:
        """Approximate resident size of the index: vectors plus the approximate structure."""
        return int(self.tuning.bytes_per_vector * len(self))

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))


def _ivf_bytes(index: faiss.IndexIVF) -> float:
    n = max(1, int(index.ntotal))
    ids_and_map = 8 + 8  # list ids + direct map entry
    centroids = index.nlist * index.d * 4 / n
    return _flat_bytes(index.d) + ids_and_map + centroids


def _describe(index: faiss.Index) -> Tuning:
    if isinstance(index, faiss.IndexIVF):
        return Tuning("ivf", int(index.nlist), int(index.nprobe), float("nan"), 0, _ivf_bytes(index))
    if isinstance(index, faiss.IndexHNSW):
        return Tuning("hnsw", 0, 0, float("nan"), 0, _flat_bytes(index.d) + 8 * index.hnsw.nb_neighbors(0))
    per_component = 4.0 if isinstance(index, faiss.IndexFlat) else BYTES_PER_COMPONENT  # float32 of old indexes
    return Tuning("flat", bytes_per_vector=_flat_bytes(index.d, per_component))
