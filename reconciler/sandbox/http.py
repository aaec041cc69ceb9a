"""The HTTP machinery both sandboxes share: routing, fault injection, limits, a request log.

A sandbox is a `Router` of handlers (one per documented route) served by `SandboxServer` on
127.0.0.1 in background threads, so tests, the demo and `reconciler sandbox` all run the very
same server. This module knows nothing of Selligent or Actito: each app supplies its own error
body (`Router.error_body`) so faults and limits answer in the vendor's envelope. An app whose
vendor documents its own rate limit or time limit passes `admit` / `time_limit` to the server
(the Selligent sandbox does; the Actito sandbox uses the generic `Faults` knobs).
"""
from __future__ import annotations

import contextlib
import json
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from reconciler.sandbox.faults import BODY_CHUNK, DropConnection, Faults, _Gate
from reconciler.sandbox.requestlog import LogEntry, RequestLog

__all__ = ["BODY_CHUNK", "DropConnection", "Faults", "Request", "Response", "Router",
           "SandboxServer"]

__all__ = ["Admission", "Faults", "LogEntry", "Request", "RequestLog", "Response", "Router",
           "SandboxServer"]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    params: dict[str, str] = field(default_factory=dict)  # path parameters, URL-decoded
    client: str = ""  # the caller's IP address (the socket's peer)

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8")) if self.body else None

    def arg(self, name: str, default: str | None = None) -> str | None:
        """A query parameter, matched case-insensitively (ASP.NET and Spring both do)."""
        for key, values in self.query.items():
            if key.lower() == name.lower() and values:
                return values[0]
        return default


@dataclass
class Response:
    status: int = 200
    body: Any = None  # JSON-serialisable, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    # Seconds the server spends on this answer before sending it (e.g. work proportional to
    # the rows of a load); counted against the server's `time_limit`.
    delay: float = 0.0

    def encoded(self) -> tuple[bytes, str]:
        if self.body is None:
            return b"", "application/json"
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        return json.dumps(self.body).encode("utf-8"), "application/json; charset=utf-8"


Handler = Callable[[Request], Response]


@dataclass
class Admission:
    """An app's rate-limit decision on a request (see `SandboxServer(admit=...)`): a refusal to
    answer instead, or headers to add to the answer of a request let through."""

    refusal: Response | None = None
    headers: dict[str, str] = field(default_factory=dict)


Admit = Callable[[Mapping[str, str]], Admission]  # lower-cased request headers -> decision


class Router:
    """Routes `METHOD /path/{param}` patterns to handlers; paths match case-insensitively."""

    def __init__(self, error_body: Callable[[int, str, str], Any]) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.error_body = error_body  # (status, error_code, message) -> the vendor's envelope

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.rstrip("/"))
        self._routes.append((method.upper(), re.compile(f"^{regex}/?$", re.IGNORECASE), handler))

    def error(self, status: int, code: str, message: str, **headers: str) -> Response:
        return Response(status, self.error_body(status, code, message), dict(headers))

    def dispatch(self, request: Request) -> Response:
        allowed = False
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if not match:
                continue
            allowed = True
            if method == request.method:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                return handler(Request(**{**request.__dict__, "params": params}))
        if allowed:
            return self.error(405, "MethodNotAllowed", f"{request.method} is not allowed here")
        return self.error(404, "NotFound", f"no route for {request.method} {request.path}")


class SandboxServer:
    """A router served on 127.0.0.1 (port 0 picks a free one) in a background thread.

    `admit`: the app's own rate limit, asked as each request starts (request line and headers
    read), in place of `Faults.requests_per_second`'s token bucket. `time_limit`: seconds a
    request may take, read on each request (None: no limit); a request whose handling would
    take longer (latency, throttling, `Response.delay`, the handler's own time) is cut: its
    connection is closed without an answer once the limit is reached (fault "cut")."""

    def __init__(
        self,
        router: Router,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        log: RequestLog | None = None,
        admit: Admit | None = None,
        time_limit: Callable[[], float | None] | None = None,
    ) -> None:
        self.router = router
        self.admit = admit
        self.time_limit = time_limit
        self.gate = _Gate(faults or Faults())
        self.log = log or RequestLog()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def faults(self) -> Faults:
        return self.gate.faults

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> SandboxServer:
        # A short poll interval makes stop() quick (tests start and stop many servers).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm a keep-alive
            # client waits for the delayed ACK (~40 ms) on every call.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                pass  # the RequestLog records requests; stderr stays quiet

            def _serve(self) -> None:
                server._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return _Handler

    def _read_body(self, handler: BaseHTTPRequestHandler) -> bytes | None:
        """The request's body; None when the client closed the connection before sending it
        all (a truncated body is never handled)."""
        if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            while True:
                size = int(handler.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    handler.rfile.readline()
                    return b"".join(chunks)
                chunks.append(handler.rfile.read(size))
                handler.rfile.readline()
        length = int(handler.headers.get("Content-Length") or 0)
        hook, parts, read = self.faults.while_receiving, [], 0
        while read < length:
            part = handler.rfile.read(min(BODY_CHUNK, length - read))
            if not part:
                return None  # the client went away mid-body: nothing to handle
            parts.append(part)
            read += len(part)
            if hook is not None:
                hook(handler.command.upper(), urlsplit(handler.path).path, read)
        return b"".join(parts)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        started = time.monotonic()
        headers = {k.lower(): v for k, v in handler.headers.items()}
        admission = self.admit(headers) if self.admit is not None else None
        retry_after = self.gate.admit() if admission is None else None
        split = urlsplit(handler.path)
        body = self._read_body(handler)
        if body is None:
            self._drop(handler)
            return
        request = Request(
            method=handler.command.upper(),
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=headers,
            body=body,
            client=str(handler.client_address[0]),
        )
        in_flight, delay = self.gate.enter()
        fault: str | None = None
        dropped = self.gate.roll(self.faults.drop_ratio)
        try:
            if dropped:
                fault = "dropped"
                response = Response(0)
            else:
                response, fault = self._answer(
                    request, in_flight, retry_after, delay, admission, started)
        finally:
            self.gate.leave()
        encoded_request = body
        self.log.append(
            LogEntry(
                time=time.time(), method=request.method, path=request.path, query=request.query,
                headers=request.headers, request_body=encoded_request, status=response.status,
                response_body=response.encoded()[0], fault=fault, in_flight=in_flight,
                duration_ms=(time.monotonic() - started) * 1000,
            )
        )
        # Freed and logged before answering: a client that has read the answer never finds
        # its request still counted in flight (a false 429) nor missing from the log.
        if response.status == 0:  # dropped, or cut by the time limit
            self._drop(handler)
        else:
            self._send(handler, response)

    def _answer(
        self, request: Request, in_flight: int, retry_after: float | None, delay: float,
        admission: Admission | None = None, started: float | None = None,
    ) -> tuple[Response, str | None]:
        response, fault = self._respond(request, in_flight, retry_after, delay, admission,
                                        time.monotonic() if started is None else started)
        if admission is not None and response.status and fault != "rate-limited":
            response.headers = {**admission.headers, **response.headers}
        return response, fault

    def _respond(
        self, request: Request, in_flight: int, retry_after: float | None, delay: float,
        admission: Admission | None, started: float,
    ) -> tuple[Response, str | None]:
        faults = self.faults
        router = self.router
        if faults.max_in_flight is not None and in_flight > faults.max_in_flight:
            return router.error(429, "TooManyRequests", "too many concurrent requests"), "busy"
        if admission is not None and admission.refusal is not None:
            return admission.refusal, "rate-limited"
        if retry_after is not None:
            seconds = str(max(1, math.ceil(retry_after)))
            response = router.error(429, "TooManyRequests", "rate limit exceeded")
            response.headers["Retry-After"] = seconds
            return response, "rate-limited"
        if faults.max_body_bytes is not None and len(request.body) > faults.max_body_bytes:
            message = f"request body over {faults.max_body_bytes} bytes"
            return router.error(413, "PayloadTooLarge", message), "too-large"
        limit = self.time_limit() if self.time_limit is not None else None
        pause = faults.latency_ms / 1000 + delay
        if limit is not None and time.monotonic() - started + pause > limit:
            return self._cut(started, limit)  # never reaches the handler
        time.sleep(pause)
        if faults.before_answer is not None:
            try:
                faults.before_answer(request)
            except DropConnection:
                return Response(0), "dropped"
        if self.gate.roll(faults.error_ratio):
            return router.error(503, "ServiceUnavailable", "injected fault"), "error"
        try:
            response = router.dispatch(request)
        except Exception as exc:  # noqa: BLE001 - a sandbox bug must answer 500, not hang
            return router.error(500, "InternalServerError", f"sandbox error: {exc}"), "bug"
        if limit is not None and time.monotonic() - started + response.delay > limit:
            return self._cut(started, limit)  # the handler's work is done; its answer is lost
        time.sleep(response.delay)
        return response, None

    @staticmethod
    def _cut(started: float, limit: float) -> tuple[Response, str | None]:
        """No answer: the connection is closed once `limit` seconds have passed."""
        time.sleep(max(0.0, started + limit - time.monotonic()))
        return Response(0), "cut"

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, response: Response) -> None:
        payload, content_type = response.encoded()
        try:
            handler.send_response(response.status)
            headers = {"Content-Type": content_type, **response.headers}
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            if handler.command != "HEAD":
                handler.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client is gone (e.g. killed):
            handler.close_connection = True  # its answer was served all the same

    @staticmethod
    def _drop(handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)
