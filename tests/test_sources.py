"""Tests for bot/sources.py: every supported kind is read, every bad file is skipped with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.errors import SourcesError
from bot.sources import load_sources


def make_pdf(pages: list[str], title: str | None = None) -> bytes:
    """A minimal, valid PDF with one text line per page (no PDF writer library needed)."""
    objects: list[bytes] = []
    kids = " ".join(f"{3 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    font_id = 3 + 2 * len(pages)
    for i, text in enumerate(pages):
        content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {4 + 2 * i} 0 R "
            f"/Resources << /Font << /F1 {font_id} 0 R >> >> >>".encode()
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    info_ref = ""
    if title:
        objects.append(f"<< /Title ({title}) >>".encode())
        info_ref = f" /Info {len(objects)} 0 R"
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R{info_ref} >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def write(root: Path, rel: str, data: bytes | str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_text_title_is_first_nonempty_line(tmp_path):
    """Without front matter the title is the first non-empty line and the text is kept verbatim."""
    write(tmp_path, "a.txt", "\n\n  Headline here \n\nBody text.\n")
    loaded = load_sources(tmp_path)
    (doc,) = loaded.documents
    assert doc.title == "Headline here"
    assert doc.text == "\n\n  Headline here \n\nBody text.\n"
    assert doc.source == "a.txt"


def test_front_matter_metadata_and_subfolders(tmp_path):
    """YAML front matter gives metadata and is cut from the text; subfolders are walked."""
    write(
        tmp_path,
        "news/2019/b.md",
        "---\ntitle: The Title\nurl: https://example.org/b\npublished: 2019-03-14\nauthor: A. Writer\n"
        "publisher: The Paper\n---\nFirst line of body.\n",
    )
    (doc,) = load_sources(tmp_path).documents
    assert doc.source == "news/2019/b.md"
    assert (doc.title, doc.url, doc.published, doc.author, doc.publisher) == (
        "The Title",
        "https://example.org/b",
        "2019-03-14",
        "A. Writer",
        "The Paper",
    )
    assert doc.text == "First line of body.\n"


def test_html_main_text_and_metadata(tmp_path):
    """HTML goes through trafilatura: boilerplate dropped, title and URL kept."""
    body = " ".join(["The council approved the new bridge over the river on Monday."] * 8)
    html = (
        "<html><head><title>Bridge approved</title>"
        '<link rel="canonical" href="https://news.example.org/bridge">'
        '<meta name="author" content="Jo Reporter"></head><body>'
        "<nav>Home | Sport | Weather</nav><article><h1>Bridge approved</h1>"
        f"<p>{body}</p><p>Work starts next year, officials said.</p></article>"
        "<footer>Copyright footer text</footer></body></html>"
    )
    write(tmp_path, "page.html", html)
    (doc,) = load_sources(tmp_path).documents
    assert doc.title == "Bridge approved"
    assert doc.url == "https://news.example.org/bridge"
    assert "council approved the new bridge" in doc.text
    assert "Copyright footer" not in doc.text


def test_pdf_pages_are_kept(tmp_path):
    """A PDF's text is read per page, and page start offsets are recorded for citations."""
    write(tmp_path, "report.pdf", make_pdf(["Alpha page one text", "Beta page two text"], title="Annual Report"))
    (doc,) = load_sources(tmp_path).documents
    assert doc.title == "Annual Report"
    assert len(doc.pages) == 2
    assert doc.text[doc.pages[1] :].startswith("Beta page two")
    assert "Alpha page one" in doc.text[: doc.pages[1]]


def test_jsonl_collection_and_bad_lines(tmp_path):
    """A jsonl collection gives one document per line (`id` or `_id`); bad lines are skipped, not fatal."""
    lines = [
        json.dumps({"_id": "d1", "title": "One", "text": "First doc."}),
        "{not json",
        json.dumps({"id": "d2", "text": "Second doc.", "url": "https://x.org/2"}),
        json.dumps({"id": "d3"}),
        json.dumps({"id": "d1", "text": "duplicate id"}),
    ]
    write(tmp_path, "corpus.jsonl", "\n".join(lines) + "\n")
    loaded = load_sources(tmp_path)
    assert [d.source for d in loaded.documents] == ["corpus.jsonl#d1", "corpus.jsonl#d2"]
    assert loaded.documents[0].title == "One"
    assert loaded.documents[1].url == "https://x.org/2"
    reasons = {s.path: s.reason for s in loaded.skipped}
    assert reasons["corpus.jsonl:2"].startswith("invalid JSON")
    assert reasons["corpus.jsonl:4"] == "no `text`"
    assert "duplicate id" in reasons["corpus.jsonl:5"]


def test_every_kind_of_bad_file_is_skipped_with_reason(tmp_path):
    """Empty, binary, non-UTF-8, oversize, unreadable, unsupported and broken files are skipped with reasons."""
    write(tmp_path, "good.txt", "Good title\n\nGood body.")
    write(tmp_path, "empty.txt", "")
    write(tmp_path, "blank.md", "   \n\n")
    write(tmp_path, "binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    write(tmp_path, "latin1.txt", "caf\xe9 au lait".encode("latin-1"))
    write(tmp_path, "huge.txt", "x" * (2 * 1024 * 1024))
    write(tmp_path, "notes.docx", b"PK\x03\x04")
    write(tmp_path, "broken.pdf", b"%PDF-1.4 this is not really a pdf")
    write(tmp_path, "badyaml.md", "---\ntitle: [unclosed\n---\nbody\n")
    write(tmp_path, "nothing.jsonl", "{bad\n")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "missing-target.txt")
    write(tmp_path, ".hidden.txt", "hidden files are not sources")
    loaded = load_sources(tmp_path, max_file_mb=1)
    assert [d.source for d in loaded.documents] == ["good.txt"]
    reasons = {s.path: s.reason for s in loaded.skipped}
    assert reasons["empty.txt"] == "empty file"
    assert reasons["blank.md"] == "empty file"
    assert reasons["binary.txt"].startswith("binary file")
    assert reasons["latin1.txt"].startswith("not valid UTF-8")
    assert reasons["huge.txt"] == "larger than the 1 MB cap"
    assert reasons["notes.docx"] == "unsupported file type .docx"
    assert reasons["broken.pdf"].startswith("PDF could not be read")
    assert reasons["badyaml.md"].startswith("invalid YAML front matter")
    assert reasons["nothing.jsonl"] == "no valid document line"
    assert reasons["nothing.jsonl:1"].startswith("invalid JSON")
    assert reasons["dangling.txt"].startswith("cannot be read")
    assert ".hidden.txt" not in reasons
    assert all("\n" not in r for r in reasons.values())


def test_unicode_text_round_trips(tmp_path):
    """Right-to-left, CJK, emoji and a BOM are decoded exactly."""
    text = "עברית ו中文 and emoji 🎉 — “quotes”\nsecond line"
    write(tmp_path, "u.txt", "\ufeff" + text)
    (doc,) = load_sources(tmp_path).documents
    assert doc.text == text


def test_missing_folder_is_a_clear_error(tmp_path):
    """A missing sources folder raises the user-facing SourcesError naming it."""
    with pytest.raises(SourcesError, match="sources folder not found"):
        load_sources(tmp_path / "nope")


def test_hostile_files_are_skipped_not_fatal(tmp_path):
    """A PDF that trips pypdf into AttributeError, front matter with YAML aliases (300 bytes that
    expand to hundreds of MB), a file name that is not UTF-8 and a symlinked folder: each is skipped
    with a reason and the good file is still read."""
    write(tmp_path, "good.txt", "Good title\n\nGood body.")
    write(tmp_path, "damaged.pdf", make_pdf(["Alpha one", "Beta two"]).replace(b"trailer\n<<", b"trailer\n9<<"))
    levels = ["a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']"]
    levels += [f"{n}: &{n} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]" for p, n in zip("abcdefg", "bcdefgh")]
    write(tmp_path, "bomb.md", "---\n" + "\n".join(levels) + "\ntitle: *h\n---\nBody.\n")
    (tmp_path / "caf\udce9.txt").write_bytes(b"Cafe\n\nBody.")  # the byte 0xE9 as Python sees it
    outside = tmp_path.parent / "elsewhere"
    write(outside, "kept.txt", "Kept elsewhere\n\nA linked file is read where it points.")
    (tmp_path / "linked-folder").symlink_to(outside, target_is_directory=True)
    (tmp_path / "linked.txt").symlink_to(outside / "kept.txt")
    loaded = load_sources(tmp_path)
    assert [d.source for d in loaded.documents] == ["good.txt", "linked.txt"]
    reasons = {s.path: s.reason for s in loaded.skipped}
    assert reasons["damaged.pdf"] == "PDF is damaged (AttributeError)"
    assert reasons["bomb.md"] == "YAML front matter uses aliases (*name); write the values out"
    assert reasons["caf\\udce9.txt"] == "file name is not valid UTF-8; rename the file"
    assert reasons["linked-folder"].startswith("a symlinked folder is not followed")
    json.dumps([s.path for s in loaded.skipped]).encode("utf-8")  # the report can be written out
