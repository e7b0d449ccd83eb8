"""End to end: the real bot (discord.py 2.7.1, real Engine and model) against a fake Discord on loopback."""

from __future__ import annotations

import json
import os
import threading
import time

import pytest
from discord_harness import HOSTILE, TOKEN, Live, make_corpus, start_live, stop_live
from fake_discord import BOT_ID, CHANNEL_ID, DM_CHANNEL_ID, THREAD_ID

pytestmark = pytest.mark.slow

NO_PINGS = {"parse": []}
NO_PINGS_REPLY = {"parse": [], "replied_user": False}


@pytest.fixture(scope="module")
def live(tmp_path_factory, embedder):
    from bot.config import Settings
    from bot.discord.settings import DiscordSettings
    from bot.engine import Engine

    root = tmp_path_factory.mktemp("discord")
    sources = make_corpus(root / "sources")
    settings = Settings(sources=sources, index=root / "index", _env_file=None)
    engine, _ = Engine.open_or_build(settings, embedder=embedder)
    ds = DiscordSettings(
        token=TOKEN,
        cooldown_seconds=30,
        heartbeat=root / "hb.json",
        heartbeat_seconds=0.5,
        guild_ready_timeout=0.5,
        _env_file=None,
    )
    live = start_live(settings, ds, engine)
    live.extra["sources"] = sources
    yield live
    stop_live(live)


@pytest.fixture(autouse=True)
def clean(request):
    """After every test: no route the fake does not know, and no ERROR logged by discord.py."""
    if "live" not in request.fixturenames:
        yield
        return
    live: Live = request.getfixturevalue("live")
    start_logs = len(live.capture.records)
    start_unknown = len(live.fake.unknown)
    yield
    assert live.fake.unknown[start_unknown:] == []
    assert live.capture.discord_errors(start_logs) == []


_users = iter(range(5000, 6000))


def user() -> int:
    """A fresh user id per question, so the 30 s per-user cooldown never couples tests."""
    return next(_users)


def embeds_text(req) -> str:
    return "\n".join(
        (e.get("title") or "") + "\n" + (e.get("description") or "") + "\n" + (e.get("footer", {}).get("text") or "")
        for e in (req.json or {}).get("embeds") or []
    )


def custom_ids(req) -> list[str]:
    payload = req.json or {}
    payload = payload.get("data", payload) if "type" in payload else payload  # a callback wraps its message
    return [c["custom_id"] for row in payload.get("components") or [] for c in row["components"]]


def check_limits(payload: dict) -> None:
    assert len(payload.get("content") or "") <= 2000
    embeds = payload.get("embeds") or []
    assert len(embeds) <= 10
    total = 0
    for e in embeds:
        assert len(e.get("title", "")) <= 256
        assert len(e.get("description", "")) <= 4096
        assert len(e.get("fields", [])) <= 25
        assert all(len(f["value"]) <= 1024 and len(f["name"]) <= 256 for f in e.get("fields", []))
        total += len(e.get("title", "")) + len(e.get("description", "")) + len(e.get("footer", {}).get("text", ""))
        total += sum(len(f["name"]) + len(f["value"]) for f in e.get("fields", []))
    assert total <= 6000


# -- asking ------------------------------------------------------------------------------------
def test_slash_ask_defers_then_answers_with_cited_embed(live):
    """/ask defers first (type 5), then a followup carries numbered, cited, verbatim passages."""
    mark = live.fake.mark()
    inter = live.fake.slash("ask", {"question": "What did Pompeo say about Huawei?"}, user_id=user())
    cb = live.callback(inter, mark)
    assert cb.json["type"] == 5
    fu = live.followup(inter, mark)
    assert live.fake.requests.index(cb) < live.fake.requests.index(fu)
    embeds = fu.json["embeds"]
    assert embeds and embeds[0]["title"].startswith("[1] ")
    assert "000_24054db15d7a09bf.txt" in embeds_text(fu)  # the Pompeo article is cited
    assert "**" in embeds_text(fu)  # the best sentence is bold
    assert fu.json["allowed_mentions"] == NO_PINGS
    assert any(c.startswith("cb:src:") for c in custom_ids(fu))
    check_limits(fu.json)


def test_mention_gets_a_reply_with_the_answer(live):
    """@citebot <question> in a channel is answered as a reply, with no ping of the author."""
    mark = live.fake.mark()
    msg = live.fake.send_message(f"<@{BOT_ID}> what did Pompeo say about Huawei?", mention_bot=True, user_id=user())
    rep = live.reply(msg, mark)
    assert "000_24054db15d7a09bf.txt" in embeds_text(rep)
    assert rep.json["allowed_mentions"] == NO_PINGS_REPLY


def test_dm_gets_a_reply(live):
    """A DM needs no mention: the question is answered in the DM channel."""
    mark = live.fake.mark()
    msg = live.fake.send_dm("Which senator introduced a bill about Huawei?", user_id=user())
    rep = live.reply(msg, mark, channel_id=DM_CHANNEL_ID)
    assert rep.json["embeds"]
    assert rep.json["allowed_mentions"] == NO_PINGS_REPLY


def test_question_in_a_thread_is_answered_in_the_thread(live):
    """A question in a thread is answered in that thread."""
    mark = live.fake.mark()
    msg = live.fake.send_message(
        f"<@{BOT_ID}> What did Pompeo say about Huawei?", mention_bot=True, user_id=user(), channel_id=THREAD_ID
    )
    rep = live.reply(msg, mark, channel_id=THREAD_ID)
    assert rep.json["embeds"], rep.json


def test_thread_follow_up_uses_the_question_that_started_it(live):
    """In a thread started from an answer, a terse follow-up is read with the thread's first question."""
    mark = live.fake.mark()
    msg = live.fake.send_message(
        f"<@{BOT_ID}> Which senator introduced the Huawei intelligence bill?", mention_bot=True, user_id=user()
    )
    rep = live.reply(msg, mark)
    thread_id = _message_id_of(live, rep)  # a thread started from a message has the message's id
    follow = live.fake.send_message(
        f"<@{BOT_ID}> and what is it called?", mention_bot=True, user_id=user(), channel_id=thread_id
    )
    answer = live.reply(follow, mark, channel_id=thread_id)
    assert answer.json["embeds"], answer.json
    assert "004_292b256e50e7843a.txt" in embeds_text(answer)
    alone = live.fake.send_message(f"<@{BOT_ID}> and what is it called?", mention_bot=True, user_id=user())
    assert live.reply(alone, mark).json["content"].startswith("Nothing in the sources")  # no thread, no context


def test_message_without_mention_is_ignored(live):
    """The bot does not answer channel chatter that does not mention it."""
    mark = live.fake.mark()
    live.fake.send_message("what did Pompeo say?", user_id=user())
    time.sleep(1.0)
    assert [r for r in live.fake.requests[mark:] if r.path.startswith("/channels/")] == []


def test_unanswerable_question_says_so(live):
    """Nothing relevant: an honest short reply, not an unrelated passage presented as the answer."""
    mark = live.fake.mark()
    inter = live.fake.slash(
        "ask", {"question": "How long should sourdough bread proof in a cold oven?"}, user_id=user()
    )
    fu = live.followup(inter, mark)
    assert fu.json["content"].startswith("Nothing in the sources answers that.")
    assert not fu.json.get("embeds")


def test_more_passages_button_gives_the_next_ones(live):
    """ "More passages" answers the same question from the next rank on."""
    mark = live.fake.mark()
    inter = live.fake.slash("ask", {"question": "Huawei intelligence sharing", "top_k": 1}, user_id=user())
    first = live.followup(inter, mark)
    more = [c for c in custom_ids(first) if c.startswith("cb:more:")]
    assert more, custom_ids(first)
    posted = live.fake.message(_message_id_of(live, first))
    mark2 = live.fake.mark()
    click = live.fake.click(more[0], posted, user_id=user())
    second = live.followup(click, mark2)
    assert second.json["embeds"][0]["title"].startswith("[2] ")


def test_more_passages_clicks_share_the_askers_cooldown(live):
    """Each click runs a search and posts a public answer: a second click inside the cooldown is told
    to wait (only the clicker sees it), and no second answer is posted."""
    mark = live.fake.mark()
    inter = live.fake.slash("ask", {"question": "Huawei intelligence sharing", "top_k": 1}, user_id=user())
    first = live.followup(inter, mark)
    more = next(c for c in custom_ids(first) if c.startswith("cb:more:"))
    posted = live.fake.message(_message_id_of(live, first))
    clicker = user()
    live.followup(live.fake.click(more, posted, user_id=clicker), live.fake.mark())
    mark2 = live.fake.mark()
    again = live.fake.click(more, posted, user_id=clicker)
    told = live.callback(again, mark2)
    assert told.json["type"] == 4 and told.json["data"]["flags"] & 64
    assert "Slow down" in told.json["data"]["content"]
    posts = [r for r in live.fake.requests[mark2:] if r.method == "POST" and (r.json or {}).get("embeds")]
    assert posts == []


def _message_id_of(live: Live, req) -> int:
    """The id the fake gave the message a request created (the followup response)."""
    for mid, msg in reversed(list(live.fake._messages.items())):
        if msg["embeds"] == req.json.get("embeds") and msg["components"] == req.json.get("components"):
            return mid
    raise AssertionError("message not found")


def test_show_source_button_is_ephemeral_context(live):
    """ "Show source" replies only to the clicker with the passage inside its surrounding text."""
    mark = live.fake.mark()
    inter = live.fake.slash("ask", {"question": "What did Pompeo say about Huawei?"}, user_id=user())
    fu = live.followup(inter, mark)
    src = next(c for c in custom_ids(fu) if c.startswith("cb:src:"))
    mark2 = live.fake.mark()
    click = live.fake.click(src, live.fake.message(_message_id_of(live, fu)), user_id=user())
    cb = live.callback(click, mark2)
    assert cb.json["type"] == 4
    assert cb.json["data"]["flags"] & 64  # ephemeral
    assert "**" in cb.json["data"]["embeds"][0]["description"]


def test_sources_lists_documents_in_pages(live):
    """/sources shows ten documents a page; Next shows the rest."""
    mark = live.fake.mark()
    inter = live.fake.slash("sources", user_id=user())
    cb = live.callback(inter, mark)
    embed = cb.json["data"]["embeds"][0]
    assert embed["footer"]["text"] == "page 1 of 2"  # 14 documents
    assert embed["description"].count("\n") == 9
    nxt = next(c for c in custom_ids(cb) if c.endswith(":n"))
    mark2 = live.fake.mark()
    click = live.fake.click(nxt, live.fake.message(_message_id_of_callback(live, cb)), user_id=user())
    cb2 = live.callback(click, mark2)
    assert cb2.json["type"] == 7  # the same message, updated
    assert cb2.json["data"]["embeds"][0]["footer"]["text"] == "page 2 of 2"


def _message_id_of_callback(live: Live, cb) -> int:
    for mid, msg in reversed(list(live.fake._messages.items())):
        if msg["embeds"] == cb.json["data"].get("embeds"):
            return mid
    raise AssertionError("message not found")


# -- rules -------------------------------------------------------------------------------------
def test_mentions_in_sources_and_questions_ping_nobody(live):
    """Rule 1: a source and a question full of @everyone/<@&role>/<@user> go out with no mentions allowed."""
    mark = live.fake.mark()
    q = "@everyone <@&123> <@456> what did the mention drill say?"
    msg = live.fake.send_message(f"<@{BOT_ID}> {q}", mention_bot=True, user_id=user())
    rep = live.reply(msg, mark)
    assert rep.json["allowed_mentions"] == NO_PINGS_REPLY
    assert HOSTILE in embeds_text(rep) and "@everyone" in embeds_text(rep)
    inter = live.fake.slash("ask", {"question": q}, user_id=user())
    fu = live.followup(inter, mark)
    assert fu.json["allowed_mentions"] == NO_PINGS
    assert "@everyone" in fu.json["content"]  # the echoed question, still pinging nobody


def test_many_passages_stay_within_discord_limits(live):
    """Rule 3: long merged passages of a source with a 740-character title fit every Discord limit, cut with "…"."""
    mark = live.fake.mark()
    inter = live.fake.slash(
        "ask", {"question": "What did the lighthouse keepers log about the lamp?", "top_k": 10}, user_id=user()
    )
    fu = live.followup(inter, mark)
    check_limits(fu.json)
    lighthouse = [e for e in fu.json["embeds"] if "lighthouse-report.md" in e["footer"]["text"]]
    assert len(lighthouse) >= 2
    assert all(e["title"].endswith("…") and e["url"].startswith("https://example.org/") for e in lighthouse)
    assert any(e["description"].endswith("…") for e in lighthouse)  # merged passages of 2-3k characters, cut


def test_cooldown_and_question_length_get_clear_replies(live):
    """Rule 6: a second question inside the cooldown, and an over-long question, get a short reply."""
    uid = user()
    mark = live.fake.mark()
    first = live.fake.slash("ask", {"question": "What did Pompeo say?"}, user_id=uid)
    live.followup(first, mark)
    second = live.fake.slash("ask", {"question": "What did Cotton say?"}, user_id=uid)
    cb = live.callback(second, mark)
    assert cb.json["type"] == 4 and cb.json["data"]["flags"] & 64
    assert "Slow down" in cb.json["data"]["content"]
    msg = live.fake.send_message(f"<@{BOT_ID}> " + "why " * 200, mention_bot=True, user_id=user())
    rep = live.reply(msg, mark)
    assert "the limit is 500" in rep.json["content"]


def test_a_mention_flood_is_told_to_wait_once(live):
    """Ten mentions at once from one member: one answer, one "Slow down", then silence, so the bot
    never floods a channel (or spends its own rate limit) because someone else did."""
    uid = user()
    mark = live.fake.mark()
    flood = [
        live.fake.send_message(f"<@{BOT_ID}> what did Pompeo say? ({i})", mention_bot=True, user_id=uid)
        for i in range(10)
    ]
    answered = live.reply(flood[0], mark)
    assert answered.json["embeds"]
    # another member's question, answered after the flood's replies (a search takes longer than a refusal)
    other = live.fake.send_message(f"<@{BOT_ID}> what did Cotton say?", mention_bot=True, user_id=user())
    live.reply(other, mark)
    ids = {str(m["id"]) for m in flood[1:]}
    told = [
        r
        for r in live.fake.requests[mark:]
        if r.method == "POST" and str(((r.json or {}).get("message_reference") or {}).get("message_id")) in ids
    ]
    assert [r.json["content"][:9] for r in told] == ["Slow down"]


def test_reindex_is_refused_to_members(live):
    """Rule 4: /reindex by a member without Manage Server is refused by the bot itself."""
    mark = live.fake.mark()
    inter = live.fake.slash("reindex", admin=False, user_id=user())
    cb = live.callback(inter, mark)
    assert cb.json["type"] == 4 and cb.json["data"]["flags"] & 64
    assert "Manage Server" in cb.json["data"]["content"]
    assert live.bot.reindex_task is None


def hold_builds(live: Live, monkeypatch) -> threading.Event:
    """Builds wait at their embedding until the returned event is set, so "while a build runs" does
    not depend on how fast this machine embeds (the real embedding runs after)."""
    release = threading.Event()
    real_encode = live.engine.embedder.encode

    def held_encode(texts, *args, **kwargs):
        if threading.current_thread().name.startswith("citebot-build"):
            release.wait(120)
        return real_encode(texts, *args, **kwargs)

    monkeypatch.setattr(live.engine.embedder, "encode", held_encode)
    return release


def test_admin_reindex_switches_while_questions_keep_being_answered(live, monkeypatch):
    """An admin's /reindex embeds a new and a changed source in the background; questions asked during
    the build are answered (from the old index) before it reports, and the new source is answerable after."""
    sources = live.extra["sources"]
    release = hold_builds(live, monkeypatch)  # until the questions are answered
    shifts = "\n\n".join(
        f"Shift {i} of the ferry crew: deck hand {i} logged tide {i * 7 % 13} metres and {i % 5} late sailings."
        for i in range(400)
    )  # about a hundred passages to embed, so the build takes a while
    (sources / "zebra.md").write_text(
        "---\ntitle: Zebra crossing report\n---\nThe council painted a new zebra crossing on Quayside Road.\n\n"
        + shifts,
        encoding="utf-8",
    )
    (sources / "note-09.md").write_text(
        "---\ntitle: Garden note 9\n---\nGarden note 9 was rewritten.\n", encoding="utf-8"
    )
    mark = live.fake.mark()
    inter = live.fake.slash("reindex", admin=True, user_id=user())
    started = live.followup(inter, mark, pred=lambda r: "in the background" in (r.json.get("content") or ""))
    asked = [
        live.fake.send_message(f"<@{BOT_ID}> what did Pompeo say?", mention_bot=True, user_id=user()) for _ in range(2)
    ]
    replies = [live.reply(m, mark) for m in asked]
    release.set()
    done = live.followup(inter, mark, pred=lambda r: (r.json.get("content") or "").startswith("Reindexed"), timeout=180)
    assert "1 added, 1 changed" in done.json["content"]
    order = live.fake.requests.index
    for rep in replies:
        assert rep.json["embeds"] and order(started) < order(rep) < order(done)  # answered during the build
    mark2 = live.fake.mark()
    q = live.fake.slash("ask", {"question": "Where was the new zebra crossing painted?"}, user_id=user())
    assert "zebra.md" in embeds_text(live.followup(q, mark2))


def test_source_added_during_a_reindex_waits_for_it_then_is_indexed(live, monkeypatch):
    """/source add while another admin's /reindex runs: the file is saved, the add waits for that
    build, then runs its own, so the new source is answerable (not "already running", not lost)."""
    release = hold_builds(live, monkeypatch)
    (live.extra["sources"] / "kiln.md").write_text(
        "---\ntitle: Kiln note\n---\nThe pottery kiln was fired at dawn.\n", encoding="utf-8"
    )
    mark = live.fake.mark()
    running = live.fake.slash("reindex", admin=True, user_id=user())
    live.followup(running, mark, pred=lambda r: "in the background" in (r.json.get("content") or ""))
    att = live.fake.add_attachment("orchard.txt", b"Orchard log\n\nThe cider orchard planted forty pear trees.\n")
    add = live.fake.slash(
        "source",
        {"attachment": {"attachment": att["id"]}},
        sub="add",
        admin=True,
        user_id=user(),
        resolved={"attachments": {att["id"]: att}},
    )
    live.callback(add, mark)  # deferred while the other build is still held
    saved = live.extra["sources"] / "added" / "orchard.txt"
    deadline = time.monotonic() + 30
    while not saved.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert saved.exists() and not release.is_set()
    release.set()
    done = live.followup(add, mark, timeout=180)
    assert done.json["content"].startswith("Added `added/orchard.txt`."), done.json["content"]
    mark2 = live.fake.mark()
    q = live.fake.slash("ask", {"question": "How many pear trees did the cider orchard plant?"}, user_id=user())
    assert "orchard.txt" in embeds_text(live.followup(q, mark2))


def test_source_added_while_the_cli_builds_is_saved_and_says_so(live):
    """`citebot index` holding the index from a shell: /source add keeps the file and says when it
    will be indexed, instead of a bare error that hides that it was saved."""
    from bot.store import build_lock

    att = live.fake.add_attachment("quarry.txt", b"Quarry log\n\nThe slate quarry closed for the winter.\n")
    mark = live.fake.mark()
    with build_lock(live.bot.settings.index):
        add = live.fake.slash(
            "source",
            {"attachment": {"attachment": att["id"]}},
            sub="add",
            admin=True,
            user_id=user(),
            resolved={"attachments": {att["id"]: att}},
        )
        said = live.followup(add, mark).json["content"]
    assert said.startswith("Saved `added/quarry.txt`; it will be indexed by the next reindex (another build"), said
    assert (live.extra["sources"] / "added" / "quarry.txt").exists()


def test_slash_defers_before_search_and_search_runs_off_the_loop(live, monkeypatch):
    """Rule 2: the defer is sent before embedding and search; both run in the executor, so a slow
    search (2 s here) never stops the heartbeat."""
    real_ask = live.engine.ask
    seen: dict = {}

    def slow_ask(*args, **kwargs):
        seen["thread"] = threading.current_thread().name
        seen["requests_at_start"] = list(live.fake.requests)
        beat_before = json.loads(live.bot.heartbeat_path.read_text())["ts"]
        time.sleep(2.0)
        seen["beat_advanced"] = json.loads(live.bot.heartbeat_path.read_text())["ts"] - beat_before
        return real_ask(*args, **kwargs)

    real_embed = live.engine.embed_questions

    def spy_embed(texts):
        seen["embed_thread"] = threading.current_thread().name
        seen["requests_at_embed"] = list(live.fake.requests)
        return real_embed(texts)

    monkeypatch.setattr(live.engine, "ask", slow_ask)
    monkeypatch.setattr(live.engine, "embed_questions", spy_embed)
    mark = live.fake.mark()
    inter = live.fake.slash("ask", {"question": "What did Pompeo say?"}, user_id=user())
    live.followup(inter, mark)
    assert seen["thread"].startswith("citebot-ask") and seen["embed_thread"].startswith("citebot-ask")
    for key in ("requests_at_embed", "requests_at_start"):
        assert any(r.path.endswith(f"/{inter['token']}/callback") for r in seen[key]), key
    assert seen["beat_advanced"] >= 1.0  # the loop kept beating (every 0.5 s) during the search


def test_expired_interaction_token_falls_back_to_the_channel(live):
    """Rule 7: followups after the 15-minute token expiry do not crash; the answer goes to the channel."""
    token = "itoken-expired-1"
    live.fake.expire_token(token)
    mark = live.fake.mark()
    live.fake.slash("ask", {"question": "What did Pompeo say?"}, user_id=user(), token=token)
    rejected = live.fake.wait_for(lambda r: r.path.startswith("/webhooks/") and r.status == 401, 60, mark)
    posted = live.fake.wait_for(
        lambda r: r.method == "POST" and r.path == f"/channels/{CHANNEL_ID}/messages" and r.status == 200, 30, mark
    )
    assert live.fake.requests.index(rejected) < live.fake.requests.index(posted)
    assert posted.json["embeds"] and posted.json["allowed_mentions"] == NO_PINGS


def test_403_on_a_reply_is_logged_not_raised(live):
    """A 403 (no permission to post) is logged as a warning; the next question still works."""
    live.fake.fail_next(
        "POST", rf"/channels/{CHANNEL_ID}/messages", 403, {"code": 50013, "message": "Missing Permissions"}
    )
    mark = live.fake.mark()
    msg = live.fake.send_message(f"<@{BOT_ID}> what did Pompeo say?", mention_bot=True, user_id=user())
    live.fake.wait_for(lambda r: r.status == 403, 60, mark)
    deadline = time.monotonic() + 10
    while not any("cannot reply" in line and "403" in line for line in live.capture.lines):
        assert time.monotonic() < deadline, "the 403 was not logged"
        time.sleep(0.05)
    msg = live.fake.send_message(f"<@{BOT_ID}> what did Cotton say?", mention_bot=True, user_id=user())
    assert live.reply(msg, mark).json["embeds"]


def test_429_is_waited_out_and_retried(live):
    """A 429 with retry_after on the followup is retried by discord.py; the answer still arrives."""
    live.fake.fail_next("POST", r"/webhooks/\d+/.+", 429)
    mark = live.fake.mark()
    inter = live.fake.slash("ask", {"question": "What did Pompeo say?"}, user_id=user())
    live.fake.wait_for(lambda r: r.status == 429, 60, mark)
    assert live.followup(inter, mark).json["embeds"]


def test_unexpected_error_reaches_the_user_and_the_log(live, monkeypatch):
    """Rule 5: a crash inside /ask becomes a short ephemeral line and a logged traceback; no 'thinking...' left."""

    def broken(*args, **kwargs):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(live.engine, "ask", broken)
    mark = live.fake.mark()
    inter = live.fake.slash("ask", {"question": "What did Pompeo say?"}, user_id=user())
    fu = live.followup(inter, mark)
    assert fu.json["content"] == "Something went wrong while answering; it has been logged."
    assert fu.json["flags"] & 64
    errors = [r for r in live.capture.records if r.name == "citebot.discord" and r.levelname == "ERROR"]
    assert errors and errors[-1].exc_info and "/ask failed" in errors[-1].getMessage()


def test_button_errors_reach_the_user(live, monkeypatch):
    """A stale "More passages" key and a crash behind the button both end in a short ephemeral line."""
    mark = live.fake.mark()
    inter = live.fake.slash("ask", {"question": "Huawei intelligence sharing", "top_k": 1}, user_id=user())
    first = live.followup(inter, mark)
    posted = live.fake.message(_message_id_of(live, first))
    more = next(c for c in custom_ids(first) if c.startswith("cb:more:"))
    # as after a restart: the button is on the message but its question is no longer remembered
    restarted = json.loads(json.dumps(posted).replace(more, "cb:more:000000000000:1"))
    stale = live.fake.click("cb:more:000000000000:1", restarted, user_id=user())
    cb = live.callback(stale, mark)
    assert cb.json["type"] == 4 and cb.json["data"]["flags"] & 64 and "too old" in cb.json["data"]["content"]

    def broken(*args, **kwargs):
        raise RuntimeError("index exploded")

    monkeypatch.setattr(live.engine, "ask", broken)
    click = live.fake.click(more, posted, user_id=user())
    assert live.callback(click, mark).json["type"] == 5  # deferred, then...
    fu = live.followup(click, mark)
    assert fu.json["content"] == "Something went wrong while answering; it has been logged."


def test_empty_mention_gets_a_hint(live):
    """A bare mention with no question gets a one-line hint, not an error."""
    mark = live.fake.mark()
    msg = live.fake.send_message(f"<@{BOT_ID}>", mention_bot=True, user_id=user())
    assert "Ask me a question" in live.reply(msg, mark).json["content"]


def test_source_add_refuses_private_addresses_and_members(live):
    """/source add url: refuses loopback URLs (SSRF) for admins and the whole command for members."""
    mark = live.fake.mark()
    url = f"http://127.0.0.1:{live.fake.port}/attachments/x"
    denied = live.fake.slash("source", {"url": url}, sub="add", admin=False, user_id=user())
    assert "Manage Server" in live.callback(denied, mark).json["data"]["content"]
    inter = live.fake.slash("source", {"url": url}, sub="add", admin=True, user_id=user())
    fu = live.followup(inter, mark)
    assert "private or local address" in fu.json["content"]


def test_source_add_attachment_indexes_it(live):
    """An admin's attachment is saved under sources/added/ and indexed, then answerable."""
    att = live.fake.add_attachment(
        "lighthouse.txt", b"Lighthouse log\n\nThe keeper relit the Skerry lighthouse lamp.\n"
    )
    mark = live.fake.mark()
    inter = live.fake.slash(
        "source",
        {"attachment": {"attachment": att["id"]}},
        sub="add",
        admin=True,
        user_id=user(),
        resolved={"attachments": {att["id"]: att}},
    )
    fu = live.followup(inter, mark, timeout=120)
    assert fu.json["content"].startswith("Added `added/lighthouse.txt`."), fu.json["content"]
    assert (live.extra["sources"] / "added" / "lighthouse.txt").exists()


def test_heartbeat_file_says_connected(live):
    """While connected the bot keeps a fresh heartbeat with its document and chunk counts."""
    from bot.discord import heartbeat

    path = live.bot.heartbeat_path
    time.sleep(1.2)  # more than two beats, so the counts are those of the latest index
    assert heartbeat.problem(path, 5) is None
    beat = json.loads(path.read_text())
    assert beat["connected"] is True and beat["pid"] == os.getpid()
    assert beat["documents"] == live.engine.document_count > 0 and beat["chunks"] == live.engine.chunk_count


def test_zz_token_never_logged(live):
    """After every exchange above (DEBUG logging on), the token appears in no log line."""
    assert len(live.capture.lines) > 50
    assert not [line for line in live.capture.lines if TOKEN in line]


def test_zz_discord_py_warned_of_nothing_but_the_injected_429(live):
    """discord.py logged no warning over the session but the injected 429 (not even its voice
    library warnings: citebot never joins voice and turns them off)."""
    expected = ("is rate limited. Retrying",)
    warnings = [
        live.capture.format(r)
        for r in live.capture.records
        if r.name.startswith("discord") and r.levelno >= 30 and not any(e in r.getMessage() for e in expected)
    ]
    assert warnings == []
