"""Benchmark corpora and questions: copies we may edit, reproducible question lists."""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
NAMED = {
    "seeds": SHARED / "seeds",
    "bbc": SHARED / "data" / "news",
    "scifact": SHARED / "data" / "scifact",
}
EVAL_FILES = {"seeds": REPO / "eval" / "seeds.jsonl", "bbc": REPO / "eval" / "bbc.jsonl"}


def resolve(corpus: str) -> Path:
    path = NAMED.get(corpus, Path(corpus))
    if not path.exists():
        raise SystemExit(f"bench: corpus {corpus!r} not found at {path}")
    return path


def copy_sources(corpus: str, dest: Path) -> Path:
    """A private copy of the corpus (the incremental runs edit it); SciFact keeps only corpus.jsonl."""
    src = resolve(corpus)
    if dest.exists():
        shutil.rmtree(dest)
    if (src / "corpus.jsonl").is_file():
        dest.mkdir(parents=True)
        shutil.copy(src / "corpus.jsonl", dest / "corpus.jsonl")
    elif src.is_dir():
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("README*", ".*"))
    else:
        dest.mkdir(parents=True)
        shutil.copy(src, dest / src.name)
    return dest


def edit_documents(sources: Path, count: int, round_: int) -> list[str]:
    """Append a sentence to `count` documents (reproducibly chosen); jsonl: edit `count` records."""
    files = sorted(p for p in sources.rglob("*") if p.is_file())
    jsonl = [p for p in files if p.suffix == ".jsonl"]
    rng = random.Random(1000 + round_)
    note = f" Editor's note {round_}: this article was updated for the benchmark."
    if jsonl:
        lines = jsonl[0].read_text(encoding="utf-8").splitlines()
        picks = rng.sample(range(len(lines)), min(count, len(lines)))
        for i in picks:
            rec = json.loads(lines[i])
            rec["text"] = rec.get("text", "") + note
            lines[i] = json.dumps(rec, ensure_ascii=False)
        jsonl[0].write_text("\n".join(lines) + "\n", encoding="utf-8")
        return [f"{jsonl[0].name}#{i}" for i in picks]
    picks = rng.sample(files, min(count, len(files)))
    for p in picks:
        with p.open("a", encoding="utf-8") as fh:
            fh.write("\n" + note.strip() + "\n")
    return [str(p.relative_to(sources)) for p in picks]


def questions(corpus: str, texts: list[str], n: int = 200, seed: int = 0) -> list[str]:
    """The corpus' eval questions when there are some, topped up with sentence openings of its chunks.

    A sentence opening ("Shares in the airline fell after ...") is the kind of question whose
    answer is in the corpus, so fusion, merging and highlighting do their real work.
    """
    out: list[str] = []
    path = EVAL_FILES.get(corpus)
    if path and path.is_file():
        out += [json.loads(line)["q"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(seed)
    sentences = [s for t in texts for s in re.split(r"(?<=[.!?])\s+", t) if len(s.split()) >= 8]
    rng.shuffle(sentences)
    for s in sentences:
        if len(out) >= n:
            break
        out.append(" ".join(s.split()[: rng.randint(6, 12)]) + "?")
    while len(out) < n and out:  # a tiny corpus: repeat (warm latency is still measured per call)
        out.append(out[len(out) % max(1, len(out))])
    return out[:n]
