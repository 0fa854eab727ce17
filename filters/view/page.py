"""The viewer's single HTML file, and a localhost server for runs too large to embed.

The page's script and style are inlined from ``page.js`` and ``page.css``; a Content-Security-Policy
with a per-page nonce lets only that script run and forbids every network request except the
page's own server. Data is embedded so that no byte of it can close its ``<script>`` element: the
index as JSON with ``<``, ``>`` and ``&`` escaped, each detail as base64 of gzipped JSON, which the
page decodes when the episode, state or example is opened.
"""

from __future__ import annotations

import base64
import gzip
import json
import secrets
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from core.store import write_atomic
from filters.view.data import ViewData

HERE = Path(__file__).parent


def safe_json(obj: Any) -> str:
    """JSON that can sit inside a ``<script>`` element: no ``</script>``, ``<!--`` or entity can form."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def pack(detail: dict[str, Any]) -> str:
    """Base64 of gzipped JSON: the page's embedded form of one detail (``[A-Za-z0-9+/=]`` only)."""
    raw = json.dumps(detail, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def render(data: ViewData, title: str, embed_details: bool = True) -> str:
    """The whole page; without ``embed_details`` it fetches details from :func:`serve`'s server."""
    nonce = secrets.token_urlsafe(16)
    csp = (f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'unsafe-inline'; img-src data:; "
           f"connect-src 'self'; base-uri 'none'; form-action 'none'")
    blocks = []
    if embed_details:
        blocks = [f'<script type="application/octet-stream" id="d-{kind}-{i}">{pack(d)}</script>'
                  for kind, items in data.details.items() for i, d in items.items()]
    title_text = title.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        f"<title>mnm view: {title_text}</title>",
        f"<style>{(HERE / 'page.css').read_text()}</style></head>",
        f'<body><header><h1>mnm view: {title_text}</h1><nav id="nav"></nav></header><main id="main"></main>',
        f'<script type="application/json" id="mnm-index">{safe_json(data.index)}</script>',
        *blocks,
        f'<script nonce="{nonce}">{(HERE / "page.js").read_text()}</script>',
        "</body></html>\n"])


def write_page(data: ViewData, out: str | Path, title: str) -> Path:
    write_atomic(out, render(data, title))
    return Path(out)


def make_server(data: ViewData, title: str, port: int = 8765) -> ThreadingHTTPServer:
    """A server on 127.0.0.1 with the page at ``/`` and each detail at ``/detail/<kind>/<id>``."""
    page = render(data, title, embed_details=False).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            parts = [unquote(p) for p in self.path.split("?")[0].strip("/").split("/")]
            if parts == [""]:
                self._send(200, "text/html; charset=utf-8", page)
            elif len(parts) == 3 and parts[0] == "detail" and parts[2] in data.details.get(parts[1], {}):
                self._send(200, "application/json", json.dumps(data.details[parts[1]][parts[2]]).encode())
            else:
                self._send(404, "text/plain", b"not found")

        def _send(self, code: int, kind: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

    return ThreadingHTTPServer(("127.0.0.1", port), Handler)
