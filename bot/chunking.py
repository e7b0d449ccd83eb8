"""Split documents into passages a reader sees as an answer, keeping exact offsets.

The splitter is langchain's recursive splitter with sentence-level separators; offsets are found
by locating each piece in the document, so `document.text[start:end] == chunk.text` always holds.
A piece the model could not read whole (more word pieces than its window) is split again by
token count: text past the window would otherwise be silently ignored by the model.
"""

from __future__ import annotations

from collections.abc import Callable

from langchain_text_splitters import RecursiveCharacterTextSplitter

from .records import Chunk, Document

SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ": ", ", ", " ", ""]
SPLITTER_VERSION = 1  # bump when the splitting rules change: it invalidates stored chunks


def _splitter(size: int, overlap: int, length: Callable[[str], int] = len) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=size,
        chunk_overlap=min(overlap, size // 2),
        separators=SEPARATORS,
        keep_separator="end",
        strip_whitespace=True,
        length_function=length,
    )


def _locate(text: str, pieces: list[str], base: int = 0) -> list[tuple[int, int]]:
    """Offsets of each piece in `text`, searching forward so repeated sentences map in order."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        at = text.find(piece, cursor)
        if at < 0:
            at = text.find(piece)
        if at < 0:  # the splitter only strips and joins verbatim runs; this would be a bug
            raise ValueError("chunk text not found in its document")
        spans.append((base + at, base + at + len(piece)))
        cursor = at + 1
    return spans


def chunk_document(
    doc: Document,
    size: int = 800,
    overlap: int = 150,
    count_tokens: Callable[[str], int] | None = None,
    max_tokens: int | None = None,
) -> list[Chunk]:
    text = doc.text
    spans = _locate(text, _splitter(size, overlap).split_text(text))
    if count_tokens is not None and max_tokens is not None:
        fitted: list[tuple[int, int]] = []
        token_splitter = _splitter(max_tokens, max(0, max_tokens // 8), count_tokens)
        for start, end in spans:
            piece = text[start:end]
            if count_tokens(piece) <= max_tokens:
                fitted.append((start, end))
            else:
                fitted.extend(_locate(piece, token_splitter.split_text(piece), base=start))
        spans = fitted
    return [Chunk(doc.source, s, e, text[s:e]) for s, e in spans if e > s]
