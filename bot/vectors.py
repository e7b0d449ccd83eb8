"""The dense vector index behind a small interface, so another store (pgvector) can stand in later.

FAISS inner product on normalized vectors is cosine similarity. Exact search is the default;
above `approx_threshold` vectors an HNSW graph keeps queries fast at a small recall cost.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import faiss
import numpy as np

from .errors import IndexCorrupt

APPROX_THRESHOLD = 200_000
HNSW_M = 32
HNSW_EF_SEARCH = 128


class VectorIndex(Protocol):
    dim: int

    def __len__(self) -> int: ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]: ...

    def vectors(self) -> np.ndarray: ...

    def save(self, path: Path) -> None: ...


class FaissIndex:
    """A FAISS index (flat or HNSW) whose stored vectors can be read back for reuse."""

    def __init__(self, index: faiss.Index) -> None:
        self.index = index
        self.dim = int(index.d)

    @classmethod
    def from_vectors(cls, vectors: np.ndarray, dim: int, approx_threshold: int = APPROX_THRESHOLD) -> FaissIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, dim)
        if len(vectors) >= approx_threshold:
            index: faiss.Index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = 80
            index.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            index = faiss.IndexFlatIP(dim)
        if len(vectors):
            index.add(vectors)
        return cls(index)

    @classmethod
    def load(cls, path: Path) -> FaissIndex:
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexCorrupt(f"index file {path} cannot be read: {str(exc).splitlines()[0][:200]}") from None
        if isinstance(index, faiss.IndexHNSWFlat):
            index.hnsw.efSearch = HNSW_EF_SEARCH
        return cls(index)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        k = min(k, len(self))
        if k <= 0:
            n = len(queries)
            return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
        return self.index.search(np.ascontiguousarray(queries, dtype=np.float32), k)

    def vectors(self) -> np.ndarray:
        if len(self) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.index.reconstruct_n(0, len(self))

    def save(self, path: Path) -> None:
        faiss.write_index(self.index, str(path))
