"""A small fake Discord (REST + gateway) on loopback, for driving the REAL discord.py client.

Why: Discord is unreachable from CI, and dpytest cannot do slash commands, components or
allowed_mentions. This speaks just enough of the v10 API for discord.py 2.7.1.

Use from Python (the server runs its own event loop in a thread; every method is thread-safe)::

    fake = FakeDiscord(token="t0k")          # port=0 picks a free port; close_code=4004 refuses IDENTIFY
    fake.start()                              # fake.api_base, fake.gateway_url, fake.port
    fake.point_discord_py_here()              # sets discord.http.Route.BASE / DEFAULT_GATEWAY
    fake.wait_ready()                         # a client identified and got READY + GUILD_CREATE
    fake.send_message("<@BOT> what did Pompeo say?", mention_bot=True)  # MESSAGE_CREATE -> msg dict
    fake.send_dm("what did Pompeo say?")
    fake.slash("ask", {"question": "..."}, admin=False)   # INTERACTION_CREATE -> interaction dict
    fake.slash("source", {"url": "..."}, sub="add", admin=True, token="fixed")  # subcommand, chosen token
    att = fake.add_attachment("a.txt", b"...")   # served like Discord's CDN; pass it with
    fake.slash("source", {"attachment": {"attachment": att["id"]}}, sub="add", resolved={"attachments": {att["id"]: att}})
    fake.click(custom_id, message)            # a button press on a message the bot sent (fake.message(id))
    fake.wait_for(lambda r: ..., timeout=20)  # -> first recorded Request matching
    fake.requests                             # every REST call: Request(method, path, query, json, status)
    fake.unknown                              # REST calls no route handled (tests fail on these)
    fake.fail_next("POST", r"/channels/\\d+/messages", 403)  # inject an error (429 adds Via + retry_after)
    fake.expire_token(interaction_token)      # webhook calls with it get 401 "Invalid Webhook Token"
    fake.stop()

Constants: GUILD_ID, CHANNEL_ID (a text channel), THREAD_ID (a thread in it), DM_CHANNEL_ID,
APP_ID == BOT_ID, ADMIN_PERMS / MEMBER_PERMS (permission integers for `slash(admin=...)`).

Standalone (for the Docker test)::

    python tests/fake_discord.py --port 8765 [--token T]

serves until killed, and adds a control API (JSON in, JSON out):
    (message and interaction answer 409 until a client has connected to the gateway)
    POST /_control/message      {"content": str, "mention_bot": bool, "dm": bool, "user_id": int}
    POST /_control/interaction  {"name": str, "options": {...}, "admin": bool, "user_id": int}
    GET  /_control/requests     -> [{"method", "path", "query", "json", "status"}, ...]
    GET  /_control/state        -> {"identified": bool, "unknown": [...]}
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import WSMsgType, web

GUILD_ID = 900_000_000_000_000_001
CHANNEL_ID = 900_000_000_000_000_010
THREAD_ID = 900_000_000_000_000_011
DM_CHANNEL_ID = 900_000_000_000_000_020
BOT_ID = APP_ID = 900_000_000_000_000_100
OWNER_ID = 900_000_000_000_000_200
ADMIN_PERMS = (1 << 3) | (1 << 5)  # administrator, manage_guild
MEMBER_PERMS = (1 << 10) | (1 << 11)  # view_channel, send_messages


@dataclass
class Request:
    """One REST call the client made."""

    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    json: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


def _now() -> str:
    return datetime.now(UTC).isoformat()


def user(uid: int, name: str, bot: bool = False) -> dict[str, Any]:
    return {"id": str(uid), "username": name, "discriminator": "0", "global_name": name, "avatar": None, "bot": bot}


# GUILD_MEMBERS, GUILD_PRESENCES, MESSAGE_CONTENT: an IDENTIFY asking for any is closed with 4014,
# as Discord does until they are turned on in the Developer Portal (citebot needs none of them)
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)


def form_problem(message: dict[str, Any]) -> str | None:
    """What real Discord rejects with 400 "Invalid Form Body" in a message, or None."""
    if len(message.get("content") or "") > 2000:
        return "content: Must be 2000 or fewer in length."
    embeds = message.get("embeds") or []
    if len(embeds) > 10:
        return "embeds: Must be 10 or fewer in length."
    total = 0
    for e in embeds:
        parts = {
            "title": (e.get("title") or "", 256),
            "description": (e.get("description") or "", 4096),
            "footer.text": ((e.get("footer") or {}).get("text") or "", 2048),
            "author.name": ((e.get("author") or {}).get("name") or "", 256),
        }
        for name, (text, limit) in parts.items():
            if len(text) > limit:
                return f"embeds.{name}: Must be {limit} or fewer in length."
            total += len(text)
        fields = e.get("fields") or []
        if len(fields) > 25:
            return "embeds.fields: Must be 25 or fewer in length."
        for f in fields:
            if len(f.get("name") or "") > 256 or len(f.get("value") or "") > 1024:
                return "embeds.fields: a name over 256 or a value over 1024."
            total += len(f.get("name") or "") + len(f.get("value") or "")
    if total > 6000:
        return "embeds: Embed size exceeds maximum size of 6000"
    return None


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # exactly application/json: aiohttp's json_response appends a charset and discord.py then reads text
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=h)


class FakeDiscord:
    def __init__(
        self, token: str = "fake-token", port: int = 0, host: str = "127.0.0.1", close_code: int | None = None
    ) -> None:
        self.token = token
        self.close_code = close_code  # e.g. 4004: close the gateway at IDENTIFY
        self.identify_intents: list[int] = []
        self.host = host
        self.port = port
        self.requests: list[Request] = []
        self.unknown: list[Request] = []
        self.gateway_log: list[dict[str, Any]] = []
        self._ids = itertools.count(int(time.time() * 1000) << 22)
        self._cond = threading.Condition()
        self._faults: list[tuple[str, re.Pattern[str], int, dict[str, Any]]] = []
        self._expired: set[str] = set()
        self._messages: dict[int, dict[str, Any]] = {}
        self.attachment_bodies: dict[str, bytes] = {}
        self._ws: web.WebSocketResponse | None = None
        self._seq = 0
        self.identified = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    @property
    def api_base(self) -> str:
        return f"http://{self.host}:{self.port}/api/v10"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    def start(self, control: bool = False) -> FakeDiscord:
        started = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(self._serve(control))
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name="fake-discord", daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("fake Discord did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)
        self._loop = None

    async def _serve(self, control: bool) -> None:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/gateway/", self._gateway)
        if control:
            app.router.add_post("/_control/message", self._ctl_message)
            app.router.add_post("/_control/interaction", self._ctl_interaction)
            app.router.add_get("/_control/requests", self._ctl_requests)
            app.router.add_get("/_control/state", self._ctl_state)
        app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)
        app.router.add_get("/attachments/{name}", self._attachment)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def _shutdown(self) -> None:
        if self._ws is not None and not self._ws.closed:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def point_discord_py_here(self) -> None:
        """Aim the discord.py module (in this process) at this server."""
        import discord.gateway
        import discord.http
        import yarl

        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    # -- test helpers (thread-safe) ----------------------------------------------------------
    def wait_ready(self, timeout: float = 30) -> None:
        if not self.identified.wait(timeout):
            raise TimeoutError("no client identified")

    def wait_for(self, pred: Callable[[Request], bool], timeout: float = 30, start: int = 0) -> Request:
        """The first recorded request from index `start` on matching `pred`; waits for it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.requests[start:]:
                    if pred(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [(r.method, r.path, r.status) for r in self.requests[start:]]
                    raise TimeoutError(f"no matching request; saw {seen}")
                self._cond.wait(left)

    def mark(self) -> int:
        """Index to pass as `start` so wait_for only sees requests made from now on."""
        with self._cond:
            return len(self.requests)

    def fail_next(self, method: str, path_regex: str, status: int, body: dict[str, Any] | None = None) -> None:
        with self._cond:
            self._faults.append((method, re.compile(path_regex), status, body or {}))

    def expire_token(self, token: str) -> None:
        with self._cond:
            self._expired.add(token)

    def _call(self, coro: Any) -> Any:
        assert self._loop is not None, "start() first"
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def send_message(
        self,
        content: str,
        *,
        mention_bot: bool = False,
        user_id: int = 1001,
        channel_id: int = CHANNEL_ID,
        dm: bool = False,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        msg = self._new_message(channel_id if not dm else DM_CHANNEL_ID, user(user_id, f"user{user_id}"), content)
        msg["mentions"] = [user(BOT_ID, "citebot", bot=True)] if mention_bot else []
        msg["attachments"] = attachments or []
        if not dm:
            msg["guild_id"] = str(GUILD_ID)
            msg["member"] = self._member_stub(MEMBER_PERMS)
        self._call(self._dispatch("MESSAGE_CREATE", msg))
        return msg

    def send_dm(self, content: str, user_id: int = 1001) -> dict[str, Any]:
        return self.send_message(content, user_id=user_id, dm=True)

    def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        admin: bool = False,
        user_id: int = 1001,
        channel_id: int = CHANNEL_ID,
        resolved: dict[str, Any] | None = None,
        sub: str | None = None,
        token: str | None = None,
    ) -> dict[str, Any]:
        """A slash command; `sub` names a subcommand (`/source add`), `token` fixes the interaction token."""
        opts: list[dict[str, Any]] = []
        for key, value in (options or {}).items():
            kind = 4 if isinstance(value, int) and not isinstance(value, bool) else 3
            if isinstance(value, dict) and "attachment" in value:
                kind, value = 11, value["attachment"]
            opts.append({"name": key, "type": kind, "value": value})
        if sub is not None:
            opts = [{"name": sub, "type": 1, "options": opts}]
        data: dict[str, Any] = {"id": str(next(self._ids)), "name": name, "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        inter = self._interaction(2, data, admin, user_id, channel_id)
        if token is not None:
            inter["token"] = token
        self._call(self._dispatch("INTERACTION_CREATE", inter))
        return inter

    def click(
        self, custom_id: str, message: dict[str, Any], *, user_id: int = 1001, admin: bool = False
    ) -> dict[str, Any]:
        inter = self._interaction(
            3, {"custom_id": custom_id, "component_type": 2}, admin, user_id, int(message["channel_id"])
        )
        inter["message"] = message
        self._call(self._dispatch("INTERACTION_CREATE", inter))
        return inter

    def message(self, message_id: int | str) -> dict[str, Any]:
        with self._cond:
            return self._messages[int(message_id)]

    # -- payload builders --------------------------------------------------------------------
    def _member_stub(self, perms: int) -> dict[str, Any]:
        return {"roles": [], "joined_at": _now(), "deaf": False, "mute": False, "flags": 0, "permissions": str(perms)}

    def _interaction(
        self, kind: int, data: dict[str, Any], admin: bool, user_id: int, channel_id: int
    ) -> dict[str, Any]:
        perms = ADMIN_PERMS | MEMBER_PERMS if admin else MEMBER_PERMS
        member = self._member_stub(perms)
        member["user"] = user(user_id, f"user{user_id}")
        return {
            "id": str(next(self._ids)),
            "application_id": str(APP_ID),
            "type": kind,
            "data": data,
            "guild_id": str(GUILD_ID),
            "channel_id": str(channel_id),
            "channel": {"id": str(channel_id), "type": 0, "guild_id": str(GUILD_ID), "name": "general"},
            "member": member,
            "token": f"itoken-{next(self._ids)}",
            "version": 1,
            "app_permissions": str((1 << 53) - 1),
            "locale": "en-US",
            "guild_locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
        }

    def _new_message(self, channel_id: int, author: dict[str, Any], content: str) -> dict[str, Any]:
        return {
            "id": str(next(self._ids)),
            "channel_id": str(channel_id),
            "author": author,
            "content": content,
            "timestamp": _now(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "components": [],
            "flags": 0,
        }

    def _bot_message(self, channel_id: int, payload: dict[str, Any], flags: int = 0) -> dict[str, Any]:
        msg = self._new_message(channel_id, user(BOT_ID, "citebot", bot=True), payload.get("content") or "")
        msg["embeds"] = payload.get("embeds") or []
        msg["components"] = payload.get("components") or []
        msg["flags"] = payload.get("flags", flags) or 0
        msg["application_id"] = str(APP_ID)
        if channel_id != DM_CHANNEL_ID:
            msg["guild_id"] = str(GUILD_ID)
        with self._cond:
            self._messages[int(msg["id"])] = msg
        return msg

    # -- gateway -----------------------------------------------------------------------------
    async def _dispatch(self, event: str, data: dict[str, Any]) -> None:
        if self._ws is None or self._ws.closed:
            raise RuntimeError("no client connected to the gateway")
        self._seq += 1
        await self._ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    def _guild(self) -> dict[str, Any]:
        def chan(cid: int, name: str, kind: int = 0, **extra: Any) -> dict[str, Any]:
            return {
                "id": str(cid),
                "type": kind,
                "name": name,
                "position": 0,
                "guild_id": str(GUILD_ID),
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                **extra,
            }

        bot_member = self._member_stub(ADMIN_PERMS)
        bot_member["user"] = user(BOT_ID, "citebot", bot=True)
        bot_member["roles"] = []
        return {
            "id": str(GUILD_ID),
            "name": "Test Guild",
            "owner_id": str(OWNER_ID),
            "unavailable": False,
            "member_count": 3,
            "large": False,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [
                {
                    "id": str(GUILD_ID),
                    "name": "@everyone",
                    "permissions": str(MEMBER_PERMS),
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                    "flags": 0,
                }
            ],
            "channels": [chan(CHANNEL_ID, "general")],
            "threads": [
                {
                    **chan(THREAD_ID, "follow-up", 11),
                    "parent_id": str(CHANNEL_ID),
                    "owner_id": str(OWNER_ID),
                    "message_count": 1,
                    "member_count": 1,
                    "rate_limit_per_user": 0,
                    "flags": 0,
                    "thread_metadata": {
                        "archived": False,
                        "auto_archive_duration": 1440,
                        "archive_timestamp": _now(),
                        "locked": False,
                    },
                }
            ],
            "members": [bot_member],
            "voice_states": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "joined_at": _now(),
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "preferred_locale": "en-US",
            "system_channel_flags": 0,
            "afk_timeout": 300,
        }

    def _ack(self, ws: web.WebSocketResponse) -> None:
        if not ws.closed:
            asyncio.ensure_future(ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None})))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, timeout=2.0)  # close handshake: a busy client must not stall stop()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            msg = json.loads(frame.data)
            self.gateway_log.append({"op": msg.get("op"), "t": msg.get("t")})
            op = msg.get("op")
            if op == 1:
                # a beat late: discord.py stamps the send time after the send returns, and an instant
                # loopback ACK would otherwise log a bogus "Can't keep up ... 41s behind"
                asyncio.get_running_loop().call_later(0.05, self._ack, ws)
            elif op == 2:
                intents = int(msg["d"].get("intents") or 0)
                self.identify_intents.append(intents)
                if intents & PRIVILEGED_INTENTS:  # as for an app whose portal has none of them turned on
                    await ws.close(code=4014, message=b"Disallowed intent(s).")
                    break
                if msg["d"].get("token") != self.token or self.close_code:
                    await ws.close(code=self.close_code or 4004, message=b"Closed by the fake.")
                    break
                ready = {
                    "v": 10,
                    "user": user(BOT_ID, "citebot", bot=True),
                    "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
                    "session_id": "fake-session",
                    "resume_gateway_url": self.gateway_url,
                    "application": {"id": str(APP_ID), "flags": 0},
                    "private_channels": [],
                    "relationships": [],
                }
                await self._dispatch("READY", ready)
                await self._dispatch("GUILD_CREATE", self._guild())
                self.identified.set()
            elif op == 8:
                await self._dispatch(
                    "GUILD_MEMBERS_CHUNK",
                    {
                        "guild_id": str(GUILD_ID),
                        "members": [],
                        "chunk_index": 0,
                        "chunk_count": 1,
                        "nonce": msg["d"].get("nonce"),
                    },
                )
        return ws

    # -- REST --------------------------------------------------------------------------------
    async def _body(self, request: web.Request) -> Any:
        if request.content_type == "multipart/form-data":
            reader = await request.multipart()
            out: dict[str, Any] = {"files": []}
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    out.update(json.loads(await part.text()))  # type: ignore[union-attr]
                else:
                    out["files"].append({"name": part.filename, "size": len(await part.read())})  # type: ignore[union-attr]
            return out
        raw = await request.read()
        return json.loads(raw) if raw else None

    async def _rest(self, request: web.Request) -> web.Response:
        path = "/" + request.match_info["tail"]
        body = await self._body(request)
        req = Request(request.method, path, dict(request.query), body)
        auth = request.headers.get("Authorization", "")
        is_webhook = path.startswith(("/webhooks/", "/interactions/"))
        resp: web.Response | None = None
        with self._cond:
            for i, (method, rx, status, fbody) in enumerate(self._faults):
                if method == request.method and rx.fullmatch(path):
                    del self._faults[i]
                    headers = {}
                    payload = {"message": "injected", "code": 0, **fbody}
                    if status == 429:
                        headers = {"Via": "1.1 google", "X-RateLimit-Scope": "user"}
                        payload.setdefault("retry_after", 0.05)
                        payload.setdefault("global", False)
                    resp = _json(payload, status, headers)
                    break
        if resp is None and not is_webhook and auth != f"Bot {self.token}":
            resp = _json({"message": "401: Unauthorized", "code": 0}, 401)
        if resp is None:
            resp = self._route(req)
        req.status = resp.status
        with self._cond:
            self.requests.append(req)
            if resp.status == 404 and getattr(resp, "_unknown", False):
                self.unknown.append(req)
            self._cond.notify_all()
        return resp

    def _route(self, req: Request) -> web.Response:
        m, p, body = req.method, req.path, req.json or {}
        message = body.get("data") if "/callback" in p else body
        if m in ("POST", "PATCH") and isinstance(message, dict) and (problem := form_problem(message)):
            return _json({"message": "Invalid Form Body", "code": 50035, "errors": problem}, 400)
        token_match = re.fullmatch(r"/webhooks/\d+/([^/]+)(?:/.*)?", p)  # the 3 s callback is never late here
        if token_match and token_match.group(1) in self._expired:
            return _json({"message": "Invalid Webhook Token", "code": 50027}, 401)
        if m == "GET" and p == "/users/@me":
            return _json(user(BOT_ID, "citebot", bot=True))
        if m == "GET" and p == "/oauth2/applications/@me":
            return _json(
                {
                    "id": str(APP_ID),
                    "name": "citebot",
                    "icon": None,
                    "description": "",
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": user(OWNER_ID, "owner"),
                    "verify_key": "0" * 64,
                    "flags": 0,
                    "team": None,
                    "summary": "",
                }
            )
        if re.fullmatch(r"/applications/\d+(/guilds/\d+)?/commands", p):
            if m == "PUT":
                return _json(
                    [
                        {
                            **c,
                            "id": str(next(self._ids)),
                            "application_id": str(APP_ID),
                            "version": "1",
                            "default_member_permissions": c.get("default_member_permissions"),
                        }
                        for c in body
                    ]
                )
            if m == "GET":
                return _json([])
        if m == "POST" and (mm := re.fullmatch(r"/channels/(\d+)/messages", p)):
            return _json(self._bot_message(int(mm.group(1)), body))
        if m == "DELETE" and re.fullmatch(r"/users/@me/guilds/\d+", p):  # leave a server
            return web.Response(status=204)
        if m == "POST" and re.fullmatch(r"/channels/\d+/typing", p):
            return web.Response(status=204)
        if m == "POST" and p == "/users/@me/channels":
            return _json({"id": str(DM_CHANNEL_ID), "type": 1, "recipients": [user(int(body["recipient_id"]), "u")]})
        if m == "POST" and (mm := re.fullmatch(r"/interactions/(\d+)/([^/]+)/callback", p)):
            kind = body.get("type")
            data = body.get("data") or {}
            msg = self._bot_message(CHANNEL_ID, data) if kind in (4, 5, 7) else None
            inter = {
                "id": mm.group(1),
                "type": 2,
                "activity_instance_id": None,
                "response_message_id": msg and msg["id"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & 64),
            }
            return _json({"interaction": inter, "resource": {"type": kind, "message": msg} if msg else None})
        if mm := re.fullmatch(r"/webhooks/(\d+)/([^/]+)(?:/messages/(@original|\d+))?", p):
            if m == "POST" and mm.group(3) is None:
                return _json(self._bot_message(CHANNEL_ID, body))
            if m in ("PATCH", "GET") and mm.group(3):
                msg = self._bot_message(CHANNEL_ID, body if m == "PATCH" else {})
                return _json(msg)
            if m == "DELETE":
                return web.Response(status=204)
        if m == "POST" and (mm := re.fullmatch(r"/channels/(\d+)/messages/(\d+)/threads", p)):
            return _json(
                {
                    "id": str(THREAD_ID),
                    "type": 11,
                    "guild_id": str(GUILD_ID),
                    "name": body.get("name", ""),
                    "parent_id": mm.group(1),
                    "owner_id": str(BOT_ID),
                    "thread_metadata": {
                        "archived": False,
                        "auto_archive_duration": 1440,
                        "archive_timestamp": _now(),
                        "locked": False,
                    },
                }
            )
        resp = _json({"message": f"fake Discord has no route {m} {p}", "code": 0}, 404)
        resp._unknown = True  # type: ignore[attr-defined]
        return resp

    async def _attachment(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        body = self.attachment_bodies.get(name, b"")
        return web.Response(body=body, content_type="application/octet-stream")

    def add_attachment(self, name: str, body: bytes) -> dict[str, Any]:
        """Host a file the way Discord's CDN would; returns the attachment object for a slash option."""
        self.attachment_bodies[name] = body
        aid = str(next(self._ids))
        url = f"http://{self.host}:{self.port}/attachments/{name}"
        return {
            "id": aid,
            "filename": name,
            "size": len(body),
            "url": url,
            "proxy_url": url,
            "content_type": "text/plain",
        }

    # -- control API (standalone mode) -------------------------------------------------------
    def _no_client(self) -> web.Response | None:
        if self._ws is None or self._ws.closed:
            return _json({"error": "no client is connected to the gateway yet"}, 409)
        return None

    async def _ctl_message(self, request: web.Request) -> web.Response:
        if (busy := self._no_client()) is not None:
            return busy
        b = await request.json()
        msg = self._new_message(
            DM_CHANNEL_ID if b.get("dm") else CHANNEL_ID, user(int(b.get("user_id", 1001)), "user"), b["content"]
        )
        msg["mentions"] = [user(BOT_ID, "citebot", bot=True)] if b.get("mention_bot") else []
        if not b.get("dm"):
            msg["guild_id"] = str(GUILD_ID)
            msg["member"] = self._member_stub(MEMBER_PERMS)
        await self._dispatch("MESSAGE_CREATE", msg)
        return _json(msg)

    async def _ctl_interaction(self, request: web.Request) -> web.Response:
        if (busy := self._no_client()) is not None:
            return busy
        b = await request.json()
        opts = [
            {"name": k, "type": 4 if isinstance(v, int) else 3, "value": v} for k, v in (b.get("options") or {}).items()
        ]
        data = {"id": str(next(self._ids)), "name": b["name"], "type": 1, "options": opts}
        inter = self._interaction(2, data, bool(b.get("admin")), int(b.get("user_id", 1001)), CHANNEL_ID)
        await self._dispatch("INTERACTION_CREATE", inter)
        return _json(inter)

    async def _ctl_requests(self, request: web.Request) -> web.Response:
        with self._cond:
            out = [
                {"method": r.method, "path": r.path, "query": r.query, "json": r.json, "status": r.status}
                for r in self.requests
            ]
        return _json(out)

    async def _ctl_state(self, request: web.Request) -> web.Response:
        return _json(
            {"identified": self.identified.is_set(), "unknown": [f"{r.method} {r.path}" for r in self.unknown]}
        )


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake Discord on loopback for citebot's tests")
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port (printed on stdout)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token", default="fake-token")
    args = parser.parse_args()
    fake = FakeDiscord(token=args.token, port=args.port, host=args.host).start(control=True)
    print(f"fake Discord: api {fake.api_base} gateway {fake.gateway_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
