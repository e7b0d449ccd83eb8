"""`citebot` command line: a thin layer over `bot.engine`; user errors exit 2 with one line."""

from __future__ import annotations

import functools
import json
import math
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .config import Settings
from .errors import CitebotError
from .sources import PARSER_LOGGERS

F = TypeVar("F", bound=Callable[..., Any])


def _fail(message: str) -> None:
    from .presentation import printable

    click.echo(f"citebot: {printable(message)}", err=True)
    sys.exit(2)


def user_errors(fn: F) -> F:
    """Named errors become one clear line and exit code 2; anything else is a bug and raises."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except CitebotError as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            click.echo("citebot: interrupted; the previous index is untouched", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _settings(sources: str | None, index: str | None, **extra: Any) -> Settings:
    """Settings with the command-line folders on top; the paths stay strings until validated, so an
    empty `--index ""` is refused like an empty CITEBOT_INDEX (Path("") is the current folder)."""
    from .config import load_settings

    overrides: dict[str, Any] = {k: v for k, v in extra.items() if v is not None}
    if sources is not None:
        overrides["sources"] = sources
    if index is not None:
        overrides["index"] = index
    return load_settings(Settings, **overrides)


def _finite(value: float, name: str) -> float:
    """click's ranges let NaN through (every comparison with it is false): "nan" would always pass."""
    if not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a number of seconds", param_hint=name)
    return value


def _interactive() -> bool:
    return sys.stderr.isatty()


def _console(stderr: bool = False):  # type: ignore[no-untyped-def]
    from rich.console import Console

    # emoji=False: ":x:" in a source is text, not an emoji
    return Console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)


def _report(report: Any) -> None:
    from .presentation import printable, summary_lines

    for line in summary_lines(report):
        click.echo(printable(line), err=True)


location_options = [
    click.option("--sources", type=click.Path(), default=None, help="sources folder [env CITEBOT_SOURCES]"),
    click.option("--index", type=click.Path(), default=None, help="index folder [env CITEBOT_INDEX]"),
]


def with_locations(fn: F) -> F:
    for option in reversed(location_options):
        fn = option(fn)
    return fn


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="citebot")
def main() -> None:
    """citebot: answers from your documents, every passage cited."""
    import logging

    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # one-off notices from the core (the first-use model export) as plain lines on stderr
    logging.basicConfig(level=logging.WARNING, format="citebot: %(message)s")
    logging.getLogger("bot.embedding").setLevel(logging.INFO)
    # The parsers' own complaints ("EOF marker not found") name no file and would read as citebot's;
    # a file they cannot read is reported once, by name, in the build summary.
    for name in PARSER_LOGGERS:
        logging.getLogger(name).setLevel(logging.CRITICAL)


@main.command()
@with_locations
@click.option("--rebuild", is_flag=True, help="re-embed everything, even unchanged sources")
@click.option("--json", "as_json", is_flag=True, help="print the build report as JSON")
@user_errors
def index(sources: str | None, index: str | None, rebuild: bool, as_json: bool) -> None:
    """Build or update the index from the sources folder (only changed sources are re-embedded)."""
    from .indexing import build_index

    settings = _settings(sources, index)
    report, _ = build_index(settings, rebuild=rebuild, progress=_interactive())
    if as_json:
        click.echo(json.dumps(report.to_dict(), ensure_ascii=False))
    else:
        _report(report)


@main.command()
@with_locations
@click.argument("question", required=False)
@click.option("--top-k", "-k", type=click.IntRange(1, 20), default=None, help="passages to show")
@click.option("--json", "as_json", is_flag=True, help="JSON output; without QUESTION, one question per stdin line")
@click.option("--no-threshold", is_flag=True, help="never refuse (for evaluation)")
@user_errors
def ask(
    sources: str | None, index: str | None, question: str | None, top_k: int | None, as_json: bool, no_threshold: bool
) -> None:
    """Answer QUESTION with cited passages from the sources."""
    from .engine import Engine, check_question

    if question is None and not as_json:
        raise CitebotError("give a QUESTION, or use --json to read questions from stdin")
    settings = _settings(sources, index)
    if question is not None:
        check_question(question, settings.max_question_chars)
    engine, report = Engine.open_or_build(settings, progress=_interactive())
    if report is not None:
        click.echo(
            f"citebot: index was {'built' if report.added and not report.unchanged else 'updated'} first.", err=True
        )
        _report(report)
    if question is not None:
        answer = engine.ask(question, top_k, use_threshold=not no_threshold)
        if as_json:
            click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
        else:
            _print_answer(answer)
        return
    # bytes, decoded here: a line that is not UTF-8 is that line's error, not the end of the stream
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", "surrogateescape").rstrip("\r\n")
        try:  # a blank line is an error line too: the Nth output always answers the Nth input
            out = engine.ask(line, top_k, use_threshold=not no_threshold).to_dict()
        except CitebotError as exc:
            shown = raw.decode("utf-8", "replace").rstrip("\r\n")  # printable JSON, whatever the bytes
            out = {"question": shown, "error": str(exc), "answered": False, "passages": []}
        click.echo(json.dumps(out, ensure_ascii=False))
        sys.stdout.flush()


def _print_answer(answer: Any) -> None:
    from rich.markup import escape as markup_escape
    from rich.text import Text

    from .presentation import citation, printable, refusal_line

    def escape(text: str) -> str:
        return markup_escape(printable(text))

    console = _console()
    if not answer.answered:
        console.print(refusal_line(answer, escape))
        if answer.passages:
            titles = list(dict.fromkeys(p.title or p.source for p in answer.passages))
            console.print("Closest I have: " + "; ".join(escape(t) for t in titles))
        return
    for p in answer.passages:
        console.print(f"[bold][{p.rank}][/bold] [cyan]{escape(citation(p))}[/cyan]  [dim](score {p.score:.2f})[/dim]")
        # the passage as a Text, never as markup: its own brackets, colons and slashes stay as written
        hs, he = (p.highlight.start - p.start, p.highlight.end - p.start) if p.highlight else (0, 0)
        body = Text.assemble(printable(p.text[:hs]), (printable(p.text[hs:he]), "bold"), printable(p.text[he:]))
        for line in body.split("\n", allow_blank=True):
            console.print(Text("    ") + line)
        if p.also_in:
            console.print(f"    [dim]also in: {escape(', '.join(p.also_in))}[/dim]")
        console.print()


@main.command("eval")
@with_locations
@click.argument("data", type=click.Path(path_type=Path))
@click.option("--split", default="test", show_default=True, help="BEIR qrels split")
@click.option("--unanswerable", type=click.Path(path_type=Path), default=None, help="jsonl of questions to refuse")
@click.option("--top-k", "-k", type=click.IntRange(1, 20), default=None, help="passages per answer (QA)")
@click.option("--misses", is_flag=True, help="list the QA questions answered wrongly")
@click.option("--bar", "show_bar", is_flag=True, help="choose the refusal bar on these questions (QA)")
@click.option("--json", "as_json", is_flag=True)
@user_errors
def eval_cmd(
    sources: str | None,
    index: str | None,
    data: Path,
    split: str,
    unanswerable: Path | None,
    top_k: int | None,
    misses: bool,
    show_bar: bool,
    as_json: bool,
) -> None:
    """Score answers: DATA is a BEIR folder (nDCG@10, recall, MRR) or a QA jsonl file (hits, refusals).

    A BEIR folder needs `--index DIR` on the command line: CITEBOT_INDEX (environment or .env) names
    the user's own index, which the benchmark's corpus would replace.
    """
    from .evaluation import evaluate, table

    if not data.exists():
        raise CitebotError(f"{data} does not exist")
    if data.is_dir() and index is None:
        raise CitebotError(
            "a BEIR folder needs --index DIR for the benchmark's own index "
            "(CITEBOT_INDEX is not used: it names your index, which the benchmark would replace)"
        )
    reports, build = evaluate(_settings(sources, index), data, split, unanswerable, top_k, progress=_interactive())
    if build is not None:
        _report(build)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in reports], ensure_ascii=False))
        return
    for line in table(reports):
        click.echo(line)
    if misses:
        for r in reports:
            for m in r.misses:
                click.echo(json.dumps(m, ensure_ascii=False))
    if show_bar:
        from .evaluation import choose_bar

        for r in reports:
            if r.answerable_scores and r.unanswerable_scores:
                c = choose_bar(r.answerable_scores, r.unanswerable_scores)
                click.echo(
                    f"bar {c.bar:.3f}: false refusals {c.false_refusal:.1%}, false answers {c.false_answer:.1%} "
                    f"({len(r.answerable_scores)} answerable, {len(r.unanswerable_scores)} unanswerable)"
                )


@main.command("sources")
@with_locations
@click.option("--json", "as_json", is_flag=True)
@user_errors
def sources_cmd(sources: str | None, index: str | None, as_json: bool) -> None:
    """List the indexed documents."""
    from .engine import Engine

    engine = Engine.open(_settings(sources, index), embedder=None)
    docs = engine.documents()
    if as_json:
        click.echo(json.dumps([d.__dict__ for d in docs], ensure_ascii=False))
        return
    from rich.table import Table
    from rich.text import Text

    from .presentation import printable

    table = Table("title", "source", "chunks", "last indexed")
    for d in docs:
        table.add_row(Text(printable(d.title or "")), Text(printable(d.source)), str(d.chunks), d.indexed_at)
    _console().print(table)


# -- Discord (imports are lazy: `citebot ask` never pays for discord.py) ------------------------
def _discord_settings() -> Any:
    from .config import load_settings
    from .discord.settings import DiscordSettings

    return load_settings(DiscordSettings)


@main.command()
@with_locations
@user_errors
def serve(sources: str | None, index: str | None) -> None:
    """Run the Discord bot (builds or updates the index first). Token from DISCORD_TOKEN."""
    import asyncio
    import logging

    from .discord.runner import serve as run_bot

    ds = _discord_settings()
    settings = _settings(sources, index)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    try:
        asyncio.run(run_bot(settings, ds))
    except KeyboardInterrupt:
        click.echo("citebot: stopped", err=True)


@main.command("sync-commands")
@with_locations
@user_errors
def sync_commands(sources: str | None, index: str | None) -> None:
    """Register the slash commands with Discord (to DISCORD_GUILD_ID only, when set)."""
    import asyncio

    from .discord.runner import sync_commands as run_sync

    ds = _discord_settings()
    click.echo(asyncio.run(run_sync(_settings(sources, index), ds)))


@main.command()
@click.option("--index", type=click.Path(), default=None, help="index folder [env CITEBOT_INDEX]")
@click.option(
    "--max-age",
    type=click.FloatRange(min=0, min_open=True, max=1e9),
    callback=lambda _ctx, _param, value: _finite(value, "--max-age"),
    default=60.0,
    show_default=True,
    help="seconds the heartbeat may be old",
)
def health(index: str | None, max_age: float) -> None:
    """Exit 0 when `citebot serve` is connected and its heartbeat is fresh; else say why and exit 1."""
    from .discord import heartbeat

    try:
        where = heartbeat.configured_path() or heartbeat.default_path(_settings(None, index).index)
    except CitebotError as exc:
        click.echo(f"citebot: {exc}", err=True)
        sys.exit(1)
    reason = heartbeat.problem(where, max_age)
    if reason:
        click.echo(f"citebot: unhealthy: {reason}", err=True)
        sys.exit(1)
    click.echo("ok")


if __name__ == "__main__":
    main()
