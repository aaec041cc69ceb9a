"""Dropping a file on an Actito file transfer location (§2.8): FTPS with the standard library's
`ftplib.FTP_TLS` (what Actito hosts), or SFTP with paramiko (what customers host).

A file is written under a temporary name and renamed, so a synchronization never reads half a
file. ftplib, ssl and paramiko exceptions stop here: they leave as our own errors, retried when
transient. Passwords and keys never reach a log or a message.
"""
from __future__ import annotations

import contextlib
import ftplib
import io
import logging
import re
import socket
import ssl
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.destinations.errors import (
    AuthenticationError,
    DestinationError,
    PermanentApiError,
    TransientApiError,
)
from reconciler.destinations.http import RetryPolicy, with_retries

if TYPE_CHECKING:
    import paramiko

log = logging.getLogger(__name__)


class TransferProtocol(StrEnum):
    FTPS = "ftps"
    SFTP = "sftp"


@dataclass(frozen=True)
class FileTransferSettings:
    protocol: TransferProtocol
    host: str
    port: int
    username: str
    password: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)  # SFTP: PEM text or a file path
    directory: str = "/"
    ca_file: Path | None = None  # FTPS: certificate(s) to trust; None = the system's CAs
    host_key: str | None = None  # SFTP: "ssh-rsa AAAA…"; None = ~/.ssh/known_hosts
    timeout_seconds: float = 60.0


# Network trouble is worth retrying; other OSErrors (no such directory, permission) are not.
TRANSIENT = (ConnectionError, TimeoutError, EOFError, socket.gaierror, ssl.SSLError,
             ftplib.error_temp, ftplib.error_reply)


def _ssh() -> Any:
    """paramiko, imported by the SFTP calls only: FTPS (Actito's own hosting) and every other
    command start without it (a tenth of a second of each process start)."""
    import paramiko

    return paramiko


def _ssh_errors() -> tuple[type[Exception], ...]:
    """paramiko's errors, when an SFTP call has imported it (none can be raised before)."""
    loaded = sys.modules.get("paramiko")
    return (loaded.SSHException,) if loaded is not None else ()


def _call(settings: FileTransferSettings) -> str:
    return f"{settings.protocol.value.upper()} upload to {settings.host}:{settings.port}"


class _SessionReusingFTP(ftplib.FTP_TLS):
    """FTP_TLS whose data connections resume the control connection's TLS session: many FTPS
    servers (vsftpd, ProFTPD with TLSOptions) refuse a data connection that does not."""

    def ntransfercmd(self, cmd: str, rest: int | str | None = None) -> tuple[Any, int | None]:
        conn, size = ftplib.FTP.ntransfercmd(self, cmd, rest)
        if self._prot_p:  # type: ignore[attr-defined]
            conn = self.context.wrap_socket(conn, server_hostname=self.host,  # type: ignore[attr-defined]
                                            session=self.sock.session)  # type: ignore[union-attr]
        return conn, size


def _ftps_upload(settings: FileTransferSettings, local: Path, remote_name: str) -> None:
    ftp = _ftps_session(settings)
    try:
        ftp.cwd(settings.directory or "/")
        temporary = f".{remote_name}.part"
        with local.open("rb") as handle:
            ftp.storbinary(f"STOR {temporary}", handle)
        ftp.rename(temporary, remote_name)
        ftp.quit()
    finally:
        ftp.close()


def _private_key(text: str) -> paramiko.PKey:
    source = Path(text).read_text() if "PRIVATE KEY" not in text else text
    ssh = _ssh()
    for kind in (ssh.Ed25519Key, ssh.ECDSAKey, ssh.RSAKey):
        with contextlib.suppress(ssh.SSHException):
            return kind.from_private_key(io.StringIO(source))
    raise PermanentApiError("the SFTP private key could not be read")


def _check_host_key(settings: FileTransferSettings, key: paramiko.PKey) -> None:
    offered = f"{key.get_name()} {key.get_base64()}"
    if settings.host_key is not None:
        if settings.host_key.split()[:2] != offered.split():
            raise PermanentApiError("the SFTP server's host key is not the configured one")
        return
    known = _ssh().HostKeys()
    with contextlib.suppress(OSError):
        known.load(str(Path("~/.ssh/known_hosts").expanduser()))
    name = settings.host if settings.port == 22 else f"[{settings.host}]:{settings.port}"
    if not known.check(name, key):
        raise PermanentApiError("the SFTP server's host key is unknown: set host_key")


def _sftp_transport(settings: FileTransferSettings) -> paramiko.Transport:
    transport = _ssh().Transport((settings.host, settings.port))
    try:
        transport.banner_timeout = transport.auth_timeout = settings.timeout_seconds
        transport.start_client(timeout=settings.timeout_seconds)
        _check_host_key(settings, transport.get_remote_server_key())
        if settings.private_key:
            transport.auth_publickey(settings.username, _private_key(settings.private_key))
        else:
            transport.auth_password(settings.username, settings.password or "")
    except BaseException:
        transport.close()
        raise
    return transport


def _sftp_upload(settings: FileTransferSettings, local: Path, remote_name: str) -> None:
    transport = _sftp_transport(settings)
    try:
        sftp = _ssh().SFTPClient.from_transport(transport)
        assert sftp is not None
        sftp.chdir(settings.directory or "/")
        temporary = f".{remote_name}.part"
        sftp.put(str(local), temporary)
        sftp.posix_rename(temporary, remote_name)
        sftp.close()
    finally:
        transport.close()


def _ftps_session(settings: FileTransferSettings) -> _SessionReusingFTP:
    context = ssl.create_default_context(cafile=str(settings.ca_file) if settings.ca_file else None)
    ftp = _SessionReusingFTP(context=context, timeout=settings.timeout_seconds)
    ftp.connect(settings.host, settings.port)
    ftp.login(settings.username, settings.password or "")
    ftp.prot_p()
    return ftp


def _ftps_fetch(settings: FileTransferSettings, directory: str, pattern: re.Pattern[str],
                local: Path) -> str | None:
    ftp = _ftps_session(settings)
    try:
        ftp.cwd(directory)
        names = sorted(n.rsplit("/", 1)[-1] for n in ftp.nlst())
        chosen = _newest(names, pattern)
        if chosen is not None:
            with local.open("wb") as handle:
                ftp.retrbinary(f"RETR {chosen}", handle.write)
        ftp.quit()
        return chosen
    finally:
        ftp.close()


def _sftp_fetch(settings: FileTransferSettings, directory: str, pattern: re.Pattern[str],
                local: Path) -> str | None:
    transport = _sftp_transport(settings)
    try:
        sftp = _ssh().SFTPClient.from_transport(transport)
        assert sftp is not None
        sftp.chdir(directory)
        chosen = _newest(sorted(sftp.listdir()), pattern)
        if chosen is not None:
            sftp.get(chosen, str(local))
        sftp.close()
        return chosen
    finally:
        transport.close()


def _newest(names: list[str], pattern: re.Pattern[str]) -> str | None:
    """The matching name that sorts last: date placeholders resolve to fixed-width digits,
    so the newest file's name sorts last."""
    matching = [n for n in names if pattern.match(n)]
    return matching[-1] if matching else None


def fetch_newest(settings: FileTransferSettings, directory: str, pattern: re.Pattern[str],
                 local: Path, retry: RetryPolicy | None = None) -> str | None:
    """Download the newest file of `directory` whose name matches `pattern` to `local`; its
    name, or None when no file matches."""
    call = f"{settings.protocol.value.upper()} download from {settings.host}:{settings.port}"
    fetch = _ftps_fetch if settings.protocol is TransferProtocol.FTPS else _sftp_fetch

    def once() -> str | None:
        try:
            return fetch(settings, directory, pattern, local)
        except Exception as exc:
            if not _ours_to_translate(exc):
                raise
            raise _translate(exc, call) from exc

    return with_retries(once, retry or RetryPolicy(), name=f"actito {call}")


def _ours_to_translate(exc: Exception) -> bool:
    """A transfer's own failure (network, server, protocol), not a bug of ours."""
    return isinstance(exc, (OSError, EOFError, ftplib.Error, DestinationError, *_ssh_errors()))


def _translate(exc: Exception, call: str) -> DestinationError:
    where: dict[str, Any] = {"destination": "actito", "call": call}
    if isinstance(exc, DestinationError):
        return exc
    ssh = sys.modules.get("paramiko")
    if (ssh is not None and isinstance(exc, ssh.AuthenticationException)) or (
        isinstance(exc, ftplib.error_perm) and str(exc).startswith("530")
    ):
        return AuthenticationError("file transfer login refused", **where)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return PermanentApiError(f"TLS certificate not trusted: {exc.verify_message}", **where)
    if isinstance(exc, ftplib.error_perm):
        return PermanentApiError("the FTPS server refused the upload", api_message=str(exc),
                                 **where)
    if isinstance(exc, (*TRANSIENT, *_ssh_errors())):
        return TransientApiError(f"file transfer failed: {type(exc).__name__}", **where)
    return PermanentApiError("the server refused the upload", api_message=str(exc), **where)


def upload_file(settings: FileTransferSettings, local: Path, remote_name: str,
                retry: RetryPolicy | None = None) -> None:
    """Put `local` at `directory/remote_name` on the location, retrying transient failures."""
    call = _call(settings)
    upload = _ftps_upload if settings.protocol is TransferProtocol.FTPS else _sftp_upload

    def once() -> None:
        try:
            upload(settings, local, remote_name)
        except Exception as exc:
            if not _ours_to_translate(exc):
                raise
            raise _translate(exc, call) from exc

    with_retries(once, retry or RetryPolicy(), name=f"actito {call}")
