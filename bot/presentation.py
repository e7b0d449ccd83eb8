"""Plain-text rendering of answers and build reports for the terminal (rich adds colour on a tty)."""

from __future__ import annotations

import re
from collections.abc import Callable

from .answers import NOT_CLOSE
from .records import Answer, BuildReport, Passage

NO_ANSWER = "Nothing in the sources answers that"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """`text` without control characters (newlines and tabs kept): a source file or its name could
    otherwise carry terminal escape sequences that recolour, retitle or rewrite the reader's screen."""
    return _CONTROL.sub("", text)


def refusal_line(answer: Answer, escape: Callable[[str], str] = str) -> str:
    """ "Nothing in the sources answers that", with the reason when a rule (not the bar) refused:
    "...: no one source mentions eBay and Skype together." `escape` is the view's markup escape
    (the reason quotes words of the question)."""
    if answer.refusal and answer.refusal != NOT_CLOSE:
        return f"{NO_ANSWER}: {escape(answer.refusal)}."
    return f"{NO_ANSWER}."


def citation(p: Passage) -> str:
    """`Title — publisher, date — location — url`, leaving out what the source does not state."""
    parts = [p.title or p.source]
    outlet = ", ".join(x for x in (p.publisher, p.published) if x)
    if outlet:
        parts.append(outlet)
    parts.append(f"{p.source}, {p.location}" if p.location else p.source)
    if p.url:
        parts.append(p.url)
    return " — ".join(parts)


def highlighted(p: Passage, open_mark: str = "**", close_mark: str = "**") -> str:
    """The passage with its best sentence wrapped in marks (verbatim otherwise)."""
    if p.highlight is None:
        return p.text
    s, e = p.highlight.start - p.start, p.highlight.end - p.start
    return p.text[:s] + open_mark + p.text[s:e] + close_mark + p.text[e:]


def summary_lines(report: BuildReport) -> list[str]:
    lines = []
    if report.rebuilt_reason:
        lines.append(f"Rebuilt everything: {report.rebuilt_reason}")
    if not report.switched:
        lines.append(f"Index up to date: {report.documents} documents, {report.chunks} chunks.")
    else:
        lines.append(
            f"Indexed {report.documents} documents, {report.chunks} chunks in {report.seconds:.1f}s "
            f"({len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed, "
            f"{report.unchanged} unchanged; {report.embedded_chunks} chunks embedded, "
            f"{report.reused_chunks} reused)."
        )
    if report.skipped:
        lines.append(f"Skipped {len(report.skipped)}:")
        lines.extend(f"  {s.path}: {s.reason}" for s in report.skipped)
    return lines
