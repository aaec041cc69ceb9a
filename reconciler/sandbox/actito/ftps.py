"""The sandbox's FTPS server (what Actito hosts, §2.8): pyftpdlib with explicit TLS required on
control and data, a self-signed certificate generated into the data dir, one home per user.

Each finished upload or rename calls `on_drop`, so file synchronizations run at once.
"""
from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import TLS_DTPHandler, TLS_FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from reconciler.sandbox.actito.config import TransferUser


def ensure_certificate(folder: Path) -> Path:
    """A self-signed certificate + key (PEM, one file) for 127.0.0.1/localhost, made once."""
    path = folder / "ftps-cert.pem"
    if path.exists():
        return path
    key = ec.generate_private_key(ec.SECP256R1())  # ECDSA: made at once, unlike RSA
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "reconciler-actito-sandbox")])
    now = dt.datetime.now(dt.UTC)
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM) + key_pem)
    path.chmod(0o600)
    return path


class FtpsServer:
    """Serves `root/<username>` to each user over FTPS on host:port (0 picks a free port)."""

    def __init__(self, host: str, port: int, root: Path, users: list[TransferUser],
                 certificate: Path, on_drop: Callable[[], None]) -> None:
        quiet = logging.getLogger("pyftpdlib")  # a handler stops pyftpdlib configuring its own
        quiet.setLevel(logging.WARNING)
        if not quiet.handlers:
            quiet.addHandler(logging.NullHandler())
        authorizer = DummyAuthorizer()
        for user in users:
            home = root / user.username
            home.mkdir(parents=True, exist_ok=True)
            authorizer.add_user(user.username, user.password or "", str(home), perm="elradfmwMT")

        def notify(handler: Any, *args: Any) -> None:
            on_drop()

        def store(handler: Any, path: str, mode: str = "w") -> Any:
            self._before("STOR")
            return TLS_FTPHandler.ftp_STOR(handler, path, mode)

        def rename(handler: Any, path: str) -> Any:
            self._before("RNTO")
            answer = TLS_FTPHandler.ftp_RNTO(handler, path)
            on_drop()
            return answer

        def retrieve(handler: Any, path: str) -> Any:
            self._before("RETR")
            return TLS_FTPHandler.ftp_RETR(handler, path)

        def receive(dtp: Any, size: int) -> bytes:
            chunk: bytes = TLS_DTPHandler.recv(dtp, size)
            if self.while_receiving is not None and dtp.receive and chunk:
                self.while_receiving(dtp.tot_bytes_received + len(chunk))  # before it is kept
            return chunk

        data_class = type("SandboxFtpsData", (TLS_DTPHandler,), {"recv": receive})
        handler_class = type("SandboxFtpsHandler", (TLS_FTPHandler,), {
            "dtp_handler": data_class, "ftp_RETR": retrieve,
            "certfile": str(certificate), "ssl_context": None, "authorizer": authorizer,
            "tls_control_required": True, "tls_data_required": True,
            "on_file_received": notify, "ftp_RNTO": rename, "ftp_STOR": store,
            "banner": "Actito sandbox FTPS",
            "auth_failed_timeout": 0.2,  # pyftpdlib's 3 s would only slow tests down
        })
        # Its own IOLoop: pyftpdlib's default is a process-wide singleton, which two sandboxes
        # running at once (tests) would share and close under each other.
        self._server = FTPServer((host, port), handler_class, ioloop=IOLoop())
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None
        # Test seams, as Faults.before_answer: called with "STOR", "RNTO" or "RETR" before the
        # command runs (a test may hold an upload there; the server waits with it), and with
        # the bytes an upload has received so far as its data arrives (held part-way).
        self.before_command: Callable[[str], None] | None = None
        self.while_receiving: Callable[[int], None] | None = None

    def _before(self, command: str) -> None:
        if self.before_command is not None:
            self.before_command(command)

    @property
    def port(self) -> int:
        return int(self._server.address[1])

    def start(self) -> FtpsServer:
        self._thread = threading.Thread(target=self._serve, daemon=True, name="actito-ftps")
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stopped.is_set():
            self._server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
        self._server.close_all()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
