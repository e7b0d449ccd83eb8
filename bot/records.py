"""The records that flow through the pipeline: document -> chunk -> passage -> answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One source document; `text` is what offsets in chunks and passages point into."""

    source: str  # path relative to the sources folder; `path#id` inside a jsonl collection
    text: str
    title: str | None = None
    url: str | None = None
    published: str | None = None
    author: str | None = None
    publisher: str | None = None
    pages: tuple[int, ...] = ()  # start offset of each page (PDF), empty otherwise

    def meta(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("text")
        d["pages"] = list(self.pages)
        return d


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why (shown in the build summary)."""

    path: str
    reason: str


@dataclass(frozen=True)
class Chunk:
    """A span of a document: `document.text[start:end] == text`."""

    source: str
    start: int
    end: int
    text: str


@dataclass
class Highlight:
    """The best-answering sentence of a passage, in document offsets."""

    start: int
    end: int


@dataclass
class Passage:
    """A verbatim span of a source returned as (part of) an answer."""

    rank: int
    source: str
    title: str | None
    url: str | None
    published: str | None
    start: int
    end: int
    text: str
    score: float
    location: str = ""  # human-readable place in the source: "page 3", "paragraph 4"
    author: str | None = None
    publisher: str | None = None
    highlight: Highlight | None = None
    also_in: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["score"] = round(float(self.score), 4)
        return d


@dataclass
class Answer:
    """What a question gets: passages in rank order; `answered` is False when none clears the bar."""

    question: str
    answered: bool
    passages: list[Passage]
    offset: int = 0
    has_more: bool = False
    refusal: str | None = None  # why it was refused, for the reader ("no source mentions Brexit")

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "refusal": self.refusal,
            "passages": [p.to_dict() for p in self.passages],
        }


@dataclass
class BuildReport:
    """Summary of one `citebot index` run."""

    documents: int = 0
    chunks: int = 0
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    embedded_chunks: int = 0  # chunks that went through the model this run
    reused_chunks: int = 0
    skipped: list[Skipped] = field(default_factory=list)
    rebuilt_reason: str | None = None  # why everything was re-embedded, if it was
    seconds: float = 0.0
    switched: bool = False  # False when nothing changed and the live index was kept

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["skipped"] = [asdict(s) for s in self.skipped]
        return d


@dataclass(frozen=True)
class DocumentInfo:
    """An indexed document as listed by `citebot sources` and `/sources`."""

    source: str
    title: str | None
    url: str | None
    chunks: int
    indexed_at: str
