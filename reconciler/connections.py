"""Saying where a connection went and why it failed, in words, without credentials.

Shared by every layer that connects (state store, sources, destinations): each maps its own
driver's exceptions; this module holds only the words. A URL is shown without its user info
and query string (either may carry a secret); a driver's multi-line message becomes one line.
"""
from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "postgres": 5432}


def printable_url(url: str) -> str:
    """The URL without user info or query: `postgresql://host:5432/db`."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def host_and_port(url: str) -> str:
    """`host:port` a URL connects to, the scheme's default port spelled out."""
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme)
    return f"{parts.hostname or ''}:{port or ''}"


def one_line(message: object) -> str:
    """A driver's message (psycopg's spans lines, with a tab-indented hint) on one line."""
    return " ".join(part.strip() for part in str(message).splitlines() if part.strip())
