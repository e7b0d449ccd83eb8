"""Fetch a URL someone asked to add as a source, without letting them reach our own network.

Why so careful: a bot that fetches any URL is a proxy into the host's private network (cloud
metadata at 169.254.169.254, admin panels on localhost). So every hop is resolved first, every
address it resolves to must be public, the connection goes to exactly the address that was checked
(no second DNS lookup to rebind), redirects are followed by hand and re-checked, and the size and
total time are capped.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import yaml

from .errors import CitebotError
from .sources import SUPPORTED, Unreadable, read_html

Resolver = Callable[[str, int], list[str]]
AddressPolicy = Callable[[str, int], bool]


class FetchError(CitebotError):
    """The URL cannot or may not be fetched; the message says why, for the user."""


@dataclass(frozen=True)
class Fetched:
    url: str  # the URL asked for
    final_url: str  # after redirects
    content_type: str
    data: bytes


def public_only(ip: str, port: int) -> bool:
    """True for globally routable unicast addresses (not private, loopback, link-local, ...)."""
    addr = ipaddress.ip_address(ip)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.is_global and not addr.is_multicast


def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise FetchError(f"cannot resolve {host}: {exc.strerror}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, host: str, ip: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, host: str, ip: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def fetch_url(
    url: str,
    *,
    max_bytes: int = 10 * 1024 * 1024,
    timeout: float = 20.0,
    max_redirects: int = 5,
    allowed: AddressPolicy = public_only,
    resolve: Resolver = system_resolver,
) -> Fetched:
    """GET `url`, refusing any hop whose host resolves to a non-public address."""
    deadline = time.monotonic() + timeout
    current = url
    for _ in range(max_redirects + 1):
        parts = urlsplit(current)
        if parts.scheme not in ("http", "https"):
            raise FetchError(f"only http and https URLs can be added, not {parts.scheme or 'a bare path'}")
        if not parts.hostname:
            raise FetchError("the URL has no host")
        if parts.username or parts.password:
            raise FetchError("URLs with credentials are refused")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise FetchError("the URL has an invalid port") from None
        ips = resolve(parts.hostname, port)
        if not ips:
            raise FetchError(f"cannot resolve {parts.hostname}")
        refused = [ip for ip in ips if not allowed(ip, port)]
        if refused:
            raise FetchError(f"refused: {parts.hostname} resolves to a private or local address ({refused[0]})")
        left = deadline - time.monotonic()
        if left <= 0:
            raise FetchError(f"timed out after {timeout:g}s")
        conn_cls = _PinnedHTTPS if parts.scheme == "https" else _PinnedHTTP
        conn = conn_cls(parts.hostname, ips[0], port, timeout=left)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        try:
            conn.request("GET", target, headers={"User-Agent": "citebot/0.1 (+source fetch)", "Accept": "*/*"})
            resp = conn.getresponse()
            if resp.status in (301, 302, 303, 307, 308):
                location = resp.getheader("Location")
                if not location:
                    raise FetchError(f"redirect without a Location from {parts.hostname}")
                current = urljoin(current, location)
                continue
            if resp.status != 200:
                raise FetchError(f"{parts.hostname} answered HTTP {resp.status}")
            length = resp.getheader("Content-Length")
            if length and length.isdigit() and int(length) > max_bytes:
                raise FetchError(f"larger than the {max_bytes // (1024 * 1024)} MB cap")
            chunks: list[bytes] = []
            size = 0
            while True:
                if time.monotonic() > deadline:
                    raise FetchError(f"timed out after {timeout:g}s")
                chunk = resp.read(65536)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise FetchError(f"larger than the {max_bytes // (1024 * 1024)} MB cap")
                chunks.append(chunk)
            ctype = (resp.getheader("Content-Type") or "").split(";")[0].strip().lower()
            return Fetched(url, current, ctype, b"".join(chunks))
        except (OSError, http.client.HTTPException) as exc:
            if isinstance(exc, TimeoutError | socket.timeout):
                raise FetchError(f"timed out after {timeout:g}s") from None
            raise FetchError(f"cannot fetch from {parts.hostname}: {type(exc).__name__}") from None
        finally:
            conn.close()
    raise FetchError(f"more than {max_redirects} redirects")


def safe_name(name: str, default_suffix: str = ".txt") -> str:
    """A file name with no path parts or odd characters, ending in a supported suffix."""
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(name).name).strip(".-")[:80] or "source"
    if Path(base).suffix.lower() not in SUPPORTED:
        base += default_suffix
    return base


def unique_path(folder: Path, name: str) -> Path:
    path = folder / name
    stem, suffix = path.stem, path.suffix
    n = 2
    while path.exists():
        path = folder / f"{stem}-{n}{suffix}"
        n += 1
    return path


def as_source_file(fetched: Fetched) -> tuple[str, bytes]:
    """(file name, bytes) to write into the sources folder; HTML becomes Markdown with its URL kept."""
    parts = urlsplit(fetched.final_url)
    stem = safe_name((parts.hostname or "page") + "-" + (Path(parts.path).stem or "index"), "")
    stem = Path(stem).stem if Path(stem).suffix.lower() in SUPPORTED else stem
    if fetched.content_type in ("text/html", "application/xhtml+xml") or fetched.data.lstrip()[:15].lower().startswith(
        (b"<!doctype html", b"<html")
    ):
        try:
            doc = read_html(stem + ".html", fetched.data)[0]
        except Unreadable as exc:
            raise FetchError(f"the page cannot be used: {exc}") from None
        meta = {
            "title": doc.title,
            "url": fetched.final_url,
            "published": doc.published,
            "author": doc.author,
            "publisher": doc.publisher,
        }
        front = yaml.safe_dump({k: v for k, v in meta.items() if v}, allow_unicode=True, sort_keys=False)
        return stem + ".md", f"---\n{front}---\n{doc.text}\n".encode()
    if fetched.content_type == "application/pdf" or fetched.data[:5] == b"%PDF-":
        return stem + ".pdf", fetched.data
    if fetched.content_type.startswith("text/") or fetched.content_type in ("", "application/octet-stream"):
        try:
            text = fetched.data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise FetchError("the page is not UTF-8 text, HTML or PDF") from None
        front = yaml.safe_dump({"url": fetched.final_url}, allow_unicode=True)
        return stem + ".md", f"---\n{front}---\n{text}".encode()
    raise FetchError(f"unsupported content type {fetched.content_type}")
