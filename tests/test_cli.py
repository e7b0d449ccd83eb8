"""Tests for bot/cli.py: the commands a user runs, their JSON contract and their exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PASSAGE_KEYS = {"rank", "source", "title", "url", "published", "start", "end", "text", "score"}


def citebot(*args: str, stdin: str | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real `citebot` entry point in a fresh process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.fixture
def indexed(seed_sources, settings, embedder):
    from bot.indexing import build_index

    build_index(settings, embedder)
    return seed_sources


def test_ask_builds_index_first_and_keeps_json_contract(seed_sources, settings):
    """`ask --json` on a folder with no index builds it, says so on stderr, and prints the documented JSON."""
    result = citebot("ask", "Who was arrested in Canada?", "--json")
    assert result.returncode == 0, result.stderr
    assert "index was built first" in result.stderr
    out = json.loads(result.stdout)
    assert set(out) >= {"question", "answered", "passages"}
    assert out["question"] == "Who was arrested in Canada?" and out["answered"] is True
    top = out["passages"][0]
    assert PASSAGE_KEYS <= set(top)
    assert isinstance(top["start"], int) and isinstance(top["score"], float) and top["rank"] == 1
    text = (seed_sources / top["source"]).read_text(encoding="utf-8")
    assert text[top["start"] : top["end"]] == top["text"]
    assert "Meng Wanzhou" in top["text"]


def test_stdin_questions_one_json_per_line(indexed):
    """`ask --json` without QUESTION answers each stdin line with one JSON object, bad lines included."""
    questions = "What did Pompeo say?\n\nHow do I bake banana bread?\n" + "x" * 600 + "\n"
    result = citebot("ask", "--json", stdin=questions)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["answered"] for line in lines] == [True, False, False, False]  # one output per input line
    assert lines[1] == {"question": "", "error": lines[1]["error"], "answered": False, "passages": []}
    assert "limit is 500" in lines[3]["error"]


def test_plain_output_when_piped(indexed):
    """Piped output is plain text: citation lines, verbatim passage, no terminal escape codes."""
    result = citebot("ask", "Who was arrested in Canada?", "--top-k", "1")
    assert result.returncode == 0, result.stderr
    assert "\x1b[" not in result.stdout
    assert result.stdout.startswith("[1] Pompeo: US will not share information")
    assert "paragraph" in result.stdout and "Meng Wanzhou" in result.stdout


def test_refusal_says_so(indexed):
    """An unanswerable question prints that nothing in the sources answers, with the closest titles."""
    result = citebot("ask", "How do I bake banana bread?")
    assert result.returncode == 0
    assert result.stdout.startswith("Nothing in the sources answers that.\nClosest I have: ")
    named = citebot("ask", "What did Pompeo say about Brexit?")
    assert named.stdout.startswith("Nothing in the sources answers that: no source mentions Brexit.\n")


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["ask", ""], {}, "the question is empty"),
        (["ask", "y" * 501], {}, "limit is 500"),
        (["ask", "hi", "--sources", "/nonexistent/folder"], {}, "sources folder not found: /nonexistent/folder"),
        (["ask", "hi"], {"CITEBOT_MODEL": "some/other-model"}, "model changed"),
        (["ask", "hi"], {"CITEBOT_CHUNK_SIZE": "7"}, "bad setting chunk_size"),
        (["sources", "--index", "/nonexistent/index"], {}, "no index in /nonexistent/index"),
        (["ask"], {}, "give a QUESTION"),
        (["ask", "caf\udce9"], {}, "the question is not valid UTF-8 text"),  # argv byte 0xe9, as a shell passes it
        (["index"], {"CITEBOT_MAX_FILE_MB": "inf"}, "bad setting max_file_mb: Input should be a finite number"),
        (["ask", "hi"], {"CITEBOT_MIN_SCORE": "nan"}, "bad setting min_score: Input should be a finite number"),
        (["ask", "hi"], {"CITEBOT_MIN_SCORE": "5"}, "bad setting min_score: Input should be less than or equal to 1"),
        (["sources"], {"CITEBOT_INDEX": ""}, "bad setting index: is empty"),
        (["ask", "hi"], {"CITEBOT_CACHE": ""}, "bad setting cache: is empty"),
        (["index", "--sources", ""], {}, "bad setting sources: is empty"),
        (["serve"], {"DISCORD_TOKEN": "x", "DISCORD_FETCH_MAX_MB": "inf"}, "bad setting DISCORD_FETCH_MAX_MB"),
    ],
)
def test_user_errors_exit_2_with_one_line(indexed, args, env, message):
    """Errors a user can cause print one clear line on stderr and exit 2, never a traceback."""
    result = citebot(*args, env=env)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_stdin_line_not_utf8_is_that_lines_error(indexed):
    """A stdin line that is not UTF-8 gets its own error object (shown with U+FFFD); the lines after it are answered."""
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ask", "--json"],
        input=b"What did Pompeo say?\ncaf\xe9 au lait?\nWho was arrested in Canada?\n",
        check=False,
        capture_output=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
    assert [line["answered"] for line in lines] == [True, False, True]
    assert lines[1]["error"] == "the question is not valid UTF-8 text"
    assert lines[1]["question"] == "caf\ufffd au lait?"


def test_dotenv_not_utf8_is_one_line_naming_it(isolated):
    """A .env that is not UTF-8 gives every command one line naming the file (health exits 1, the rest 2)."""
    (isolated / ".env").write_bytes(b"CITEBOT_TOP_K=3 # caf\xe9\n")
    expected = f"citebot: {isolated / '.env'}:1: not UTF-8 text; save the file as UTF-8"
    for args, code in [(["index"], 2), (["ask", "hi"], 2), (["sources"], 2), (["serve"], 2), (["health"], 1)]:
        result = citebot(*args, env={"DISCORD_TOKEN": "x"})
        assert (result.returncode, result.stderr.strip()) == (code, expected), args


def test_health_with_empty_heartbeat_path_is_one_line(isolated):
    """`health` with CITEBOT_HEARTBEAT empty says so in one line and exits 1 (unhealthy), no traceback."""
    result = citebot("health", env={"CITEBOT_HEARTBEAT": ""})
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == "citebot: bad setting CITEBOT_HEARTBEAT: is empty; give a path, or unset it for the default"
    )


def test_health_refuses_a_max_age_that_is_not_a_number(isolated):
    """`health --max-age nan` would call any heartbeat fresh: it is refused like any bad option."""
    result = citebot("health", "--max-age", "nan")
    assert result.returncode == 2 and "nan is not a number of seconds" in result.stderr


def test_index_summary_lists_skipped_files(indexed):
    """`citebot index` reports documents, chunks and each skipped file with its reason."""
    (indexed / "bad.txt").write_bytes(b"\xff\xfe\xfa not utf8")
    (indexed / "slides.pptx").write_bytes(b"PK")
    result = citebot("index")
    assert result.returncode == 0, result.stderr
    assert "Index up to date: 2 documents" in result.stderr
    assert "bad.txt: not valid UTF-8" in result.stderr
    assert "slides.pptx: unsupported file type .pptx" in result.stderr
    report = json.loads(citebot("index", "--json").stdout)
    assert report["switched"] is False and report["documents"] == 2


def test_sources_lists_documents(indexed):
    """`citebot sources --json` lists each indexed document with its chunk count."""
    result = citebot("sources", "--json")
    assert result.returncode == 0, result.stderr
    docs = {d["source"]: d for d in json.loads(result.stdout)}
    assert set(docs) == {"000_24054db15d7a09bf.txt", "004_292b256e50e7843a.txt"}
    assert all(d["chunks"] > 0 and d["indexed_at"] for d in docs.values())


def test_terminal_escapes_in_sources_never_reach_the_terminal(isolated):
    """A source (or its file name) carrying ESC sequences, e.g. one that retitles the terminal, is
    printed without its control characters by `ask`, `sources` and `index`; the JSON keeps the text."""
    folder = isolated / "sources"
    folder.mkdir()
    hostile = "Bridge\x1b[2J news.txt"
    (folder / hostile).write_text(
        "Bridge\x1b]0;pwned\x07 works\n\nThe mayor said \x1b[31mthe bridge will reopen in May\x1b[0m, after repairs.\n",
        encoding="utf-8",
    )
    (folder / "bad\x1b[5m.pdf").write_bytes(b"not a pdf")
    indexed = citebot("index")
    asked = citebot("ask", "When will the bridge reopen?")
    listed = citebot("sources")
    for result in (indexed, asked, listed):
        assert result.returncode == 0, result.stderr
        assert not any(c in result.stdout + result.stderr for c in "\x1b\x07\x9b"), result
    assert "the bridge will reopen in May" in asked.stdout and "[31m" in asked.stdout  # shown, not obeyed
    assert "Bridge[2J news.txt" in listed.stdout and "bad[5m.pdf" in indexed.stderr
    raw = json.loads(citebot("ask", "When will the bridge reopen?", "--json").stdout)
    assert "\x1b[31m" in raw["passages"][0]["text"]  # the JSON contract stays verbatim (JSON escapes it)


def test_source_text_is_printed_as_written(isolated):
    """Rich markup, emoji codes and control bytes in a source are printed as the source has them."""
    folder = isolated / "sources"
    folder.mkdir()
    (folder / "flags.txt").write_text(
        "Flags\n\nThe [/bold] tag, the :warning: flag and the :x: option\x01 are kept by the beaver parser.\n",
        encoding="utf-8",
    )
    result = citebot("ask", "What does the beaver parser keep?")
    assert result.returncode == 0, result.stderr
    assert "The [/bold] tag, the :warning: flag and the :x: option are kept by the beaver parser." in result.stdout


def test_bad_files_are_named_once_without_parser_chatter(isolated):
    """A damaged PDF and a file name that is not UTF-8: `index` names each once in its summary, `ask`
    still answers, and neither prints the parsers' own unattributed warnings."""
    from test_sources import make_pdf

    folder = isolated / "sources"
    folder.mkdir()
    (folder / "good.txt").write_text("Harbour\n\nThe harbour master counted nine ferries.\n", encoding="utf-8")
    (folder / "damaged.pdf").write_bytes(make_pdf(["Alpha"]).replace(b"trailer\n<<", b"trailer\n9<<"))
    (folder / "caf\udce9.txt").write_bytes(b"Cafe\n\nBody.")
    indexed = citebot("index")
    assert indexed.returncode == 0, indexed.stderr
    assert "damaged.pdf: PDF is damaged (AttributeError)" in indexed.stderr
    assert "caf\\udce9.txt: file name is not valid UTF-8; rename the file" in indexed.stderr
    assert [line for line in indexed.stderr.splitlines() if line.startswith("citebot:")] == []
    asked = citebot("ask", "How many ferries did the harbour master count?")
    assert asked.returncode == 0 and "nine ferries" in asked.stdout
    assert asked.stderr == ""


def test_ask_answers_from_the_live_index_while_another_build_runs(indexed, settings):
    """Sources changed while `citebot index` (here: its lock) is busy: `ask` answers from the live
    index and says so, instead of failing with "another build"."""
    from bot.store import build_lock

    (indexed / "new.txt").write_text("New\n\nA new article about the harbour.\n", encoding="utf-8")
    with build_lock(settings.index):
        result = citebot("ask", "What did Pompeo say?")
    assert result.returncode == 0, result.stderr
    assert "another build is updating the index; answering from the current one" in result.stderr
    assert "Pompeo" in result.stdout


def one_line_error(result: subprocess.CompletedProcess, *parts: str) -> None:
    """Exit 2 with a single `citebot:` line on stderr holding every part."""
    assert result.returncode == 2, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("citebot: "), result.stderr
    assert all(part in lines[0] for part in parts), lines[0]


def test_damaged_index_is_one_line_and_rebuild_fixes_it(indexed, settings):
    """A chunks.npz with its zip directory zeroed (same size): `ask` and `sources` name the file and
    the fix in one line; `index --rebuild` then works without reading it."""
    from bot import store

    path = store.current_path(settings.index) / "chunks.npz"
    data = path.read_bytes()
    path.write_bytes(data[:-22] + b"\0" * 22)
    for args in (["ask", "Who was arrested in Canada?"], ["sources"]):
        one_line_error(citebot(*args), str(path), "citebot index --rebuild")
    rebuilt = citebot("index", "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "Rebuilt everything: --rebuild" in rebuilt.stderr
    assert "Meng Wanzhou" in citebot("ask", "Who was arrested in Canada?").stdout


def test_plain_index_rebuilds_over_scrambled_postings(indexed, settings):
    """Scrambled BM25 postings (same size, header intact) are not "up to date": `index` rebuilds and says why."""
    import numpy as np

    from bot import store

    path = store.current_path(settings.index) / "bm25" / "indices.csc.index.npy"
    data = path.read_bytes()
    path.write_bytes(data[:128] + np.random.default_rng(0).integers(0, 256, len(data) - 128, np.uint8).tobytes())
    result = citebot("index")
    assert result.returncode == 0, result.stderr
    assert f"Rebuilt everything: previous index unreadable: index file {path} is damaged" in result.stderr
    assert "Meng Wanzhou" in citebot("ask", "Who was arrested in Canada?").stdout


def test_index_path_that_is_a_file_is_one_line(seed_sources, isolated):
    """`--index f` where f is a file: one line, exit 2, and f left as it was."""
    (isolated / "f").write_text("x\n")
    for args in (["index", "--index", "f"], ["ask", "hi", "--index", "f"], ["sources", "--index", "f"]):
        one_line_error(citebot(*args), "index path f is a file, not a folder")
    assert (isolated / "f").read_text() == "x\n"


def test_pointer_that_is_a_folder_is_one_line(indexed, settings):
    """An index whose CURRENT is a folder: one line naming it for `index` and `ask`, the folder untouched."""
    pointer = settings.index / "CURRENT"
    pointer.unlink()
    pointer.mkdir()
    for args in (["index"], ["index", "--rebuild"], ["ask", "hi"]):
        one_line_error(citebot(*args), f"index pointer {pointer} is not a file")
    assert pointer.is_dir() and not any(pointer.iterdir())
