"""URL fetching for `/source add url:`: private addresses refused at every hop, size and time capped."""

from __future__ import annotations

import http.server
import threading
import time
from typing import ClassVar

import pytest

from bot.fetching import FetchError, as_source_file, fetch_url, public_only, safe_name
from bot.sources import read_text

PAGE = b"""<!doctype html><html><head><title>Harbour news</title></head><body><article>
<h1>Harbour news</h1><p>The harbour master reopened the north pier on Monday after repairs to the
storm damage, and the ferry timetable returns to normal next week according to the council.</p>
<p>Fishermen welcomed the reopening, which had been delayed twice by the weather this spring.</p>
</article></body></html>"""


class Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict] = {}

    def do_GET(self):
        action = self.routes.get(self.path)
        if action is None:
            self.send_response(404)
            self.end_headers()
            return
        action(self)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    Handler.protocol_version = "HTTP/1.0"
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()


def only(port):
    """A policy for tests: this one loopback port counts as public, nothing else local does."""
    return lambda ip, p: (ip == "127.0.0.1" and p == port) or public_only(ip, p)


def respond(status=200, body=b"", headers=None, length=True, delay=0.0):
    def action(h):
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        if length:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if delay:
            h.wfile.write(body[:10])
            h.wfile.flush()
            time.sleep(delay)
        h.wfile.write(body)

    return action


def test_public_only_refuses_local_ranges():
    """Loopback, private, link-local (cloud metadata), unspecified and IPv4-mapped loopback are refused."""
    for ip in (
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "100.64.0.1",
    ):
        assert not public_only(ip, 80), ip
    assert public_only("93.184.216.34", 443) and public_only("2606:4700::1111", 443)


def test_loopback_and_private_names_are_refused_before_connecting(server):
    """The default policy refuses a loopback URL, and a name that resolves to a private address."""
    with pytest.raises(FetchError, match="private or local"):
        fetch_url(f"http://127.0.0.1:{server}/page")
    with pytest.raises(FetchError, match=r"10\.0\.0\.5"):
        fetch_url("http://intranet.example/", resolve=lambda host, port: ["93.184.216.34", "10.0.0.5"])


def test_redirects_are_rechecked(server):
    """An allowed page redirecting to another local port or a private name is refused at the redirect."""
    Handler.routes["/hop-local"] = respond(302, headers={"Location": "http://127.0.0.1:9/admin"})
    Handler.routes["/hop-name"] = respond(301, headers={"Location": "http://metadata.internal/latest"})

    def resolve(host, port):
        return {"127.0.0.1": ["127.0.0.1"], "metadata.internal": ["169.254.169.254"]}[host]

    with pytest.raises(FetchError, match="private or local"):
        fetch_url(f"http://127.0.0.1:{server}/hop-local", allowed=only(server), resolve=resolve)
    with pytest.raises(FetchError, match="169.254.169.254"):
        fetch_url(f"http://127.0.0.1:{server}/hop-name", allowed=only(server), resolve=resolve)


def test_allowed_redirect_is_followed_and_html_keeps_its_url(server):
    """A redirect within policy is followed; the HTML becomes Markdown whose front matter keeps the URL."""
    Handler.routes["/old"] = respond(302, headers={"Location": "/news/harbour.html"})
    Handler.routes["/news/harbour.html"] = respond(200, PAGE, {"Content-Type": "text/html; charset=utf-8"})
    fetched = fetch_url(f"http://127.0.0.1:{server}/old", allowed=only(server))
    assert fetched.final_url.endswith("/news/harbour.html")
    name, data = as_source_file(fetched)
    assert name == "127.0.0.1-harbour.md"
    doc = read_text(name, data)[0]
    assert doc.url == fetched.final_url and doc.title == "Harbour news"
    assert "reopened the north pier" in doc.text


def test_size_is_capped_with_or_without_content_length(server):
    """Bodies over the cap are refused whether the server declares the length or streams it."""
    big = b"x" * (300 * 1024)
    Handler.routes["/big"] = respond(200, big, {"Content-Type": "text/plain"})
    Handler.routes["/big-stream"] = respond(200, big, {"Content-Type": "text/plain"}, length=False)
    for path in ("/big", "/big-stream"):
        with pytest.raises(FetchError, match="larger than"):
            fetch_url(f"http://127.0.0.1:{server}{path}", allowed=only(server), max_bytes=100 * 1024)


def test_slow_server_times_out(server):
    """A server that stalls mid-body is cut off at the time cap."""
    Handler.routes["/slow"] = respond(200, b"y" * 100, {"Content-Type": "text/plain"}, delay=3)
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        fetch_url(f"http://127.0.0.1:{server}/slow", allowed=only(server), timeout=0.5)
    assert time.monotonic() - t0 < 2.5


def test_bad_schemes_and_credentials_are_refused():
    """file:, ftp: and user:password@ URLs never get fetched."""
    for url, msg in (
        ("file:///etc/passwd", "only http"),
        ("ftp://x.org/a", "only http"),
        ("http://u:p@x.org/", "credentials"),
        ("http:///nohost", "no host"),
    ):
        with pytest.raises(FetchError, match=msg):
            fetch_url(url)


def test_safe_name_strips_paths_and_forces_a_supported_suffix():
    """Attachment names cannot climb out of the folder or pick an unsupported type."""
    assert safe_name("../../etc/passwd") == "passwd.txt"
    assert safe_name("report (final).PDF") == "report-final-.PDF"
    assert safe_name("...") == "source.txt"


@pytest.fixture(scope="module")
def tls_server():
    """An HTTPS server on loopback with a certificate for news.example.test from a throw-away CA
    (trustme); the client reaches it through a resolver that maps the name to 127.0.0.1."""
    import ssl

    import trustme
    ca = trustme.CA()
    cert = ca.issue_cert("news.example.test")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    Handler.protocol_version = "HTTP/1.0"
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.socket = context.wrap_socket(srv.socket, server_side=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1], ca
    srv.shutdown()


def _to_loopback(host, port):
    return ["127.0.0.1"]


def test_https_fetch_checks_the_certificate_against_the_url_s_host(tls_server, tmp_path, monkeypatch):
    """The pinned connection still does TLS for the URL's host name: a certificate the system
    trusts for that name is accepted; an untrusted one, or one for another name, is refused."""
    port, ca = tls_server
    Handler.routes["/harbour"] = respond(body=PAGE, headers={"Content-Type": "text/html; charset=utf-8"})

    untrusted = "cannot fetch from news.example.test: SSLCertVerificationError"  # the CA is not trusted yet
    with pytest.raises(FetchError, match=untrusted):
        fetch_url(f"https://news.example.test:{port}/harbour", allowed=only(port), resolve=_to_loopback)

    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    fetched = fetch_url(f"https://news.example.test:{port}/harbour", allowed=only(port), resolve=_to_loopback)
    assert fetched.data == PAGE and fetched.content_type == "text/html"

    wrong_name = "cannot fetch from other.example.test: SSLCertVerificationError"  # issued for news.example.test
    with pytest.raises(FetchError, match=wrong_name):
        fetch_url(f"https://other.example.test:{port}/harbour", allowed=only(port), resolve=_to_loopback)
