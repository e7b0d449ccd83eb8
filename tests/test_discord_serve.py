"""`citebot serve`, `sync-commands` and `health` as real processes against the fake Discord."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from discord_harness import TOKEN
from fake_discord import BOT_ID, CHANNEL_ID, GUILD_ID, FakeDiscord

pytestmark = pytest.mark.slow
CITEBOT = str(Path(sys.executable).with_name("citebot"))
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def fake():
    server = FakeDiscord(token=TOKEN).start()
    yield server
    server.stop()


def env_for(fake: FakeDiscord, work: Path, token: str | None = TOKEN) -> dict[str, str]:
    # the session's ONNX export cache is kept (tests/conftest.py); every other setting is the test's own
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "CITEBOT_")) or k == "CITEBOT_CACHE"}
    env.update(
        CITEBOT_SOURCES=str(work / "sources"),
        CITEBOT_INDEX=str(work / "index"),
        CITEBOT_HEARTBEAT=str(work / "hb.json"),
        DISCORD_HEARTBEAT_SECONDS="1",
        DISCORD_API_BASE=fake.api_base,
        DISCORD_GATEWAY_URL=fake.gateway_url,
    )
    if token is not None:
        env["DISCORD_TOKEN"] = token
    return env


def run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CITEBOT, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_missing_token_exits_2_with_one_line(fake, isolated):
    """No DISCORD_TOKEN anywhere: one line on stderr, exit code 2, nothing contacted."""
    out = run(["serve"], env_for(fake, isolated, token=None), isolated)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "citebot: DISCORD_TOKEN is not set (put it in the environment or a .env file)"
    ]
    assert fake.requests == []


def test_bad_token_exits_2_at_once_without_printing_it(fake, seed_sources, isolated):
    """Discord answers 401: one clear line, exit 2, one login attempt (no retry loop), token never printed."""
    t0 = time.monotonic()
    out = run(["serve"], env_for(fake, isolated, token="wrong-secret-token"), isolated)
    assert out.returncode == 2, out.stderr
    assert out.stderr.strip().splitlines()[-1].startswith("citebot: Discord rejected DISCORD_TOKEN (401")
    assert "wrong-secret-token" not in out.stderr + out.stdout
    assert [r.path for r in fake.requests] == ["/users/@me"]
    assert time.monotonic() - t0 < 30
    assert not (isolated / "index").exists()  # login is checked before any index work


def test_serve_builds_answers_beats_and_stops_cleanly(fake, seed_sources, isolated):
    """serve builds the index, connects, keeps the heartbeat fresh, answers a mention; SIGTERM ends it."""
    env = env_for(fake, isolated)
    assert run(["health"], env, isolated).returncode == 1
    log = (isolated / "serve.log").open("w")
    proc = subprocess.Popen([CITEBOT, "serve"], env=env, cwd=isolated, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 120
        while run(["health", "--max-age", "5"], env, isolated).returncode != 0:
            assert proc.poll() is None, (isolated / "serve.log").read_text()
            assert time.monotonic() < deadline, (isolated / "serve.log").read_text()
            time.sleep(0.5)
        mark = fake.mark()
        msg = fake.send_message(f"<@{BOT_ID}> What did Pompeo say about Huawei?", mention_bot=True, user_id=77)
        reply = fake.wait_for(
            lambda r: (
                r.path == f"/channels/{CHANNEL_ID}/messages"
                and str((r.json or {}).get("message_reference", {}).get("message_id")) == msg["id"]
            ),
            90,
            mark,
        )
        assert reply.json["allowed_mentions"] == {"parse": [], "replied_user": False}
        assert "000_24054db15d7a09bf.txt" in str(reply.json["embeds"])
        fake.stop()  # Discord gone: the bot keeps running, and the heartbeat says it is not connected
        deadline = time.monotonic() + 30
        while "not connected" not in (out := run(["health"], env, isolated)).stderr:
            assert time.monotonic() < deadline, out.stderr
            time.sleep(0.5)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        log.close()
    text = (isolated / "serve.log").read_text()
    assert code == 0, text
    assert TOKEN not in text
    assert fake.unknown == []
    assert json.loads((isolated / "hb.json").read_text())["connected"] is False  # the last beat on the way out


def test_sync_commands_registers_to_the_guild(fake, isolated):
    """sync-commands with DISCORD_GUILD_ID puts the four commands on that server only, then exits."""
    env = env_for(fake, isolated)
    env["DISCORD_GUILD_ID"] = str(GUILD_ID)
    out = run(["sync-commands"], env, isolated)
    assert out.returncode == 0, out.stderr
    put = next(r for r in fake.requests if r.method == "PUT")
    assert put.path.endswith(f"/guilds/{GUILD_ID}/commands")
    assert sorted(c["name"] for c in put.json) == ["ask", "reindex", "source", "sources"]
    admin = {c["name"]: c.get("default_member_permissions") for c in put.json}
    assert int(admin["reindex"]) == int(admin["source"]) == 1 << 5 and admin["ask"] is None  # Manage Server
    assert "synced 4 commands" in out.stdout
    assert not (isolated / "hb.json").exists()  # syncing never touches a running bot's heartbeat


def test_discord_out_of_reach_at_start_is_retried(seed_sources, isolated):
    """Discord unreachable when the bot starts (a network still coming up at boot): it says so,
    waits with a growing pause, and connects once Discord answers, instead of exiting for good."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    later = FakeDiscord(token=TOKEN, port=port)
    env = env_for(later, isolated)
    env["DISCORD_LOGIN_RETRY_SECONDS"] = "0.5"
    log = (isolated / "serve.log").open("w")
    proc = subprocess.Popen([CITEBOT, "serve"], env=env, cwd=isolated, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while "trying again in" not in (isolated / "serve.log").read_text():
            assert proc.poll() is None and time.monotonic() < deadline, (isolated / "serve.log").read_text()
            time.sleep(0.2)
        later.start()
        later.wait_ready(120)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        log.close()
        later.stop()
    text = (isolated / "serve.log").read_text()
    assert code == 0, text
    assert "cannot reach Discord at http://127.0.0.1" in text and TOKEN not in text


def test_servers_not_listed_are_left_and_get_nothing(fake, seed_sources, isolated):
    """DISCORD_SERVERS names the servers the bot serves: it leaves any other at connect, and until
    Discord has removed it, a mention there is ignored and a slash command gets one ephemeral line."""
    env = env_for(fake, isolated)
    env["DISCORD_SERVERS"] = "111, 222"
    proc = subprocess.Popen(
        [CITEBOT, "serve"], env=env, cwd=isolated, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        fake.wait_ready(120)
        fake.wait_for(lambda r: r.method == "DELETE" and r.path == f"/users/@me/guilds/{GUILD_ID}", 60)
        mark = fake.mark()
        ignored = fake.send_message(f"<@{BOT_ID}> Who was arrested in Canada?", mention_bot=True, user_id=79)
        inter = fake.slash("ask", {"question": "Who was arrested in Canada?"}, user_id=80)
        told = fake.wait_for(lambda r: r.path.endswith("/callback"), 60, mark)
        assert told.json["type"] == 4 and told.json["data"]["flags"] & 64 and inter["id"] in told.path
        assert told.json["data"]["content"] == "citebot does not answer in this server."
        dm = fake.send_dm("Who was arrested in Canada?", user_id=81)  # a DM is still answered, after the mention
        fake.wait_for(lambda r: str(((r.json or {}).get("message_reference") or {}).get("message_id")) == dm["id"], 90)
        replies = [
            r
            for r in fake.requests[mark:]
            if str(((r.json or {}).get("message_reference") or {}).get("message_id")) == ignored["id"]
        ]
        assert replies == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_sigterm_during_the_first_build_stops_at_once(fake, isolated):
    """`docker stop` while the index is being built: the build ends at its next batch (not minutes
    later, nor killed), the process exits 0, and no half-built index is switched in."""
    sources = isolated / "sources"
    sources.mkdir()
    for i in range(150):  # about 1,500 passages: far longer to embed than the test waits
        paragraphs = (
            f"Report {i} paragraph {j}: " + "the harbour committee reviewed tide tables. " * 20 for j in range(10)
        )
        (sources / f"report-{i:03d}.txt").write_text(f"Report {i}\n\n" + "\n\n".join(paragraphs), encoding="utf-8")
    log = (isolated / "serve.log").open("w")
    proc = subprocess.Popen(
        [CITEBOT, "serve"], env=env_for(fake, isolated), cwd=isolated, stdout=log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 120
        while not list((isolated / "index").glob(".tmp-*")) and not (isolated / "index" / ".lock").exists():
            assert proc.poll() is None and time.monotonic() < deadline, (isolated / "serve.log").read_text()
            time.sleep(0.2)
        time.sleep(3)  # well into embedding
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        stopped_in = time.monotonic() - t0
    finally:
        if proc.poll() is None:
            proc.kill()
        log.close()
    text = (isolated / "serve.log").read_text()
    assert code == 0, text
    assert stopped_in < 20, (stopped_in, text)
    assert "stopped before the index build finished" in text and "Traceback" not in text
    assert not (isolated / "index" / "CURRENT").exists()


def test_no_privileged_intent_is_needed(fake, seed_sources, isolated):
    """The fake closes an IDENTIFY asking for a privileged intent (4014), as Discord does for an app
    whose portal has them off: the bot asks for none, connects, and reads a mention's question."""
    env = env_for(fake, isolated)
    proc = subprocess.Popen(
        [CITEBOT, "serve"], env=env, cwd=isolated, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        fake.wait_ready(120)
        msg = fake.send_message(f"<@{BOT_ID}> Who was arrested in Canada?", mention_bot=True, user_id=78)
        reply = fake.wait_for(
            lambda r: str(((r.json or {}).get("message_reference") or {}).get("message_id")) == msg["id"], 90
        )
        assert "Meng Wanzhou" in str(reply.json["embeds"])
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert fake.identify_intents and all(i & (1 << 15 | 1 << 8 | 1 << 1) == 0 for i in fake.identify_intents)


def test_fake_runs_standalone_with_a_control_api(isolated):
    """`python tests/fake_discord.py --port 0` serves and answers its control API (the Docker test uses it)."""
    import json
    import urllib.error
    import urllib.request

    proc = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "fake_discord.py"), "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        line = proc.stdout.readline()
        base = line.split("api ")[1].split("/api/v10")[0]
        state = json.load(urllib.request.urlopen(base + "/_control/state", timeout=5))
        assert state == {"identified": False, "unknown": []}
        req = urllib.request.Request(base + "/_control/message", data=b'{"content": "hi"}', method="POST")
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=5)
        assert err.value.code == 409
        assert json.load(urllib.request.urlopen(base + "/_control/requests", timeout=5)) == []
    finally:
        proc.terminate()
        proc.wait(10)
