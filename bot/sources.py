"""Read a folder of sources into Documents; every file that cannot be read is skipped with a reason.

A bad file never stops a build: readers raise `Unreadable`, the walker records it as `Skipped`.
Text is decoded strictly (UTF-8, BOM allowed): lossy decoding would silently corrupt citations.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .errors import SourcesError
from .records import Document, Skipped

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
PDF_SUFFIXES = {".pdf"}
JSONL_SUFFIXES = {".jsonl"}
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | JSONL_SUFFIXES
META_FIELDS = ("title", "url", "published", "author", "publisher")
PARSER_LOGGERS = ("pypdf", "trafilatura", "htmldate", "courlan", "justext", "readability")


class Unreadable(Exception):
    """A file (or a line of a collection) that cannot become a document; the message is the reason."""


@dataclass(frozen=True)
class SourceFile:
    """One file of the sources folder with the hash that decides whether it changed."""

    path: Path
    rel: str
    sha256: str
    size: int


@dataclass
class LoadedSources:
    documents: list[Document]
    files: list[SourceFile]  # files that yielded at least one document
    skipped: list[Skipped]


def _clean_meta(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def decode_text(data: bytes) -> str:
    if not data.strip():
        raise Unreadable("empty file")
    if b"\x00" in data[:8192]:
        raise Unreadable("binary file (NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"not valid UTF-8 (byte {exc.start})") from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def first_line(text: str) -> str | None:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return None


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML front matter between `---` lines at the very top; the rest is the body."""
    if not text.startswith("---\n"):
        return {}, text
    end = text.find("\n---", 4)
    if end < 0:
        return {}, text
    close = text.find("\n", end + 4)
    body = "" if close < 0 else text[close + 1 :]
    try:
        if any(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text[4:end], Loader=yaml.SafeLoader)):
            # 300 bytes of nested aliases expand to hundreds of MB once a title is written out
            raise Unreadable("YAML front matter uses aliases (*name); write the values out")
        meta = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError as exc:
        raise Unreadable(f"invalid YAML front matter: {str(exc).splitlines()[0]}") from None
    if not isinstance(meta, dict):
        raise Unreadable("front matter is not a YAML mapping")
    return meta, body


def read_text(rel: str, data: bytes) -> list[Document]:
    meta, body = split_front_matter(decode_text(data))
    if not body.strip():
        raise Unreadable("no text after the front matter")
    fields = {k: _clean_meta(meta.get(k)) for k in META_FIELDS}
    if fields["title"] is None:
        fields["title"] = first_line(body)
    return [Document(source=rel, text=body, **fields)]


def read_html(rel: str, data: bytes) -> list[Document]:
    if not data.strip():
        raise Unreadable("empty file")
    import trafilatura  # heavy: only when a folder has HTML

    try:
        result = trafilatura.bare_extraction(data, with_metadata=True, include_comments=False)
    except Exception as exc:  # noqa: BLE001 - trafilatura raises many lxml errors on broken markup
        raise Unreadable(f"HTML could not be parsed ({type(exc).__name__})") from None
    if result is None:
        raise Unreadable("no main text found in the HTML")
    found = result.as_dict() if hasattr(result, "as_dict") else dict(result)
    text = (found.get("text") or "").strip()
    if not text:
        raise Unreadable("no main text found in the HTML")
    return [
        Document(
            source=rel,
            text=text,
            title=_clean_meta(found.get("title")) or first_line(text),
            url=_clean_meta(found.get("url")),
            published=_clean_meta(found.get("date")),
            author=_clean_meta(found.get("author")),
            publisher=_clean_meta(found.get("sitename")),
        )
    ]


def read_pdf(rel: str, data: bytes) -> list[Document]:
    if not data.strip():
        raise Unreadable("empty file")
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            raise Unreadable("encrypted PDF")
        parts: list[str] = []
        pages: list[int] = []
        offset = 0
        for page in reader.pages:
            page_text = (page.extract_text() or "").replace("\r\n", "\n").strip()
            pages.append(offset)
            parts.append(page_text)
            offset += len(page_text) + 2
        info = reader.metadata or {}
        title = _clean_meta(getattr(info, "title", None))
        author = _clean_meta(getattr(info, "author", None))
    except Unreadable:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise Unreadable(f"PDF could not be read ({type(exc).__name__})") from None
    except Exception as exc:  # noqa: BLE001 - pypdf on a damaged file also raises AttributeError, AssertionError...
        raise Unreadable(f"PDF is damaged ({type(exc).__name__})") from None
    text = "\n\n".join(parts)
    if not text.strip():
        raise Unreadable("PDF has no extractable text (scanned image?)")
    return [Document(source=rel, text=text, title=title or first_line(text), author=author, pages=tuple(pages))]


def read_jsonl(rel: str, data: bytes, skipped: list[Skipped]) -> list[Document]:
    """One document per line (`id` or BEIR's `_id`, `text`, optional metadata); bad lines are skipped."""
    docs: list[Document] = []
    seen: set[str] = set()
    for lineno, line in enumerate(decode_text(data).split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{rel}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            skipped.append(Skipped(where, f"invalid JSON ({exc.msg})"))
            continue
        if not isinstance(obj, dict):
            skipped.append(Skipped(where, "line is not a JSON object"))
            continue
        doc_id = obj.get("id", obj.get("_id"))
        text = obj.get("text")
        if doc_id is None or str(doc_id).strip() == "":
            skipped.append(Skipped(where, "no `id` (or `_id`)"))
            continue
        if not isinstance(text, str) or not text.strip():
            skipped.append(Skipped(where, "no `text`"))
            continue
        doc_id = str(doc_id)
        if doc_id in seen:
            skipped.append(Skipped(where, f"duplicate id {doc_id!r}"))
            continue
        seen.add(doc_id)
        fields = {k: _clean_meta(obj.get(k)) for k in META_FIELDS}
        if fields["published"] is None:
            fields["published"] = _clean_meta(obj.get("date"))
        docs.append(Document(source=f"{rel}#{doc_id}", text=text, **fields))
    if not docs:
        raise Unreadable("no valid document line")
    return docs


def _walk(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        rel_parts = path.relative_to(root).parts
        if any(part.startswith(".") for part in rel_parts):
            continue  # hidden files and folders (.git, .DS_Store) are not sources
        if path.is_file() or path.is_symlink():
            yield path


def load_sources(root: Path, max_file_mb: float = 20.0) -> LoadedSources:
    """Every readable document under `root`, with the files it came from and what was skipped."""
    if not root.exists():
        raise SourcesError(f"sources folder not found: {root}")
    if not root.is_dir():
        raise SourcesError(f"sources path is not a folder: {root}")
    max_bytes = int(max_file_mb * 1024 * 1024)
    documents: list[Document] = []
    files: list[SourceFile] = []
    skipped: list[Skipped] = []
    readers: dict[str, Callable[[str, bytes], list[Document]]] = {}
    readers.update({s: read_text for s in TEXT_SUFFIXES})
    readers.update({s: read_html for s in HTML_SUFFIXES})
    readers.update({s: read_pdf for s in PDF_SUFFIXES})
    for path in _walk(root):
        rel = path.relative_to(root).as_posix()
        suffix = path.suffix.lower()
        try:
            rel.encode("utf-8")
        except UnicodeEncodeError:  # bytes the file system's encoding could not decode
            shown = rel.encode("utf-8", "backslashreplace").decode("utf-8")
            skipped.append(Skipped(shown, "file name is not valid UTF-8; rename the file"))
            continue
        if path.is_symlink() and path.is_dir():
            skipped.append(Skipped(rel, "a symlinked folder is not followed; link the files in it instead"))
            continue
        if suffix not in SUPPORTED:
            skipped.append(Skipped(rel, f"unsupported file type {suffix or '(none)'}"))
            continue
        try:
            size = path.stat().st_size
            if not path.is_file():
                skipped.append(Skipped(rel, "not a regular file"))
                continue
            if size > max_bytes:
                skipped.append(Skipped(rel, f"larger than the {max_file_mb:g} MB cap"))
                continue
            data = path.read_bytes()
        except OSError as exc:
            skipped.append(Skipped(rel, f"cannot be read ({exc.strerror or type(exc).__name__})"))
            continue
        try:
            if suffix in JSONL_SUFFIXES:
                docs = read_jsonl(rel, data, skipped)
            else:
                docs = readers[suffix](rel, data)
        except Unreadable as exc:
            skipped.append(Skipped(rel, str(exc)))
            continue
        documents.extend(docs)
        files.append(SourceFile(path, rel, hashlib.sha256(data).hexdigest(), size))
    return LoadedSources(documents, files, skipped)
