"""The sandbox's SFTP server (what customers host, §2.8): paramiko, password or public key
login, each user jailed in `root/<username>`, an RSA host key generated into the data dir.

Closing a written file or renaming one calls `on_drop`, so file synchronizations run at once.
"""
from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paramiko
from paramiko.common import (
    AUTH_FAILED,
    AUTH_SUCCESSFUL,
    OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED,
    OPEN_SUCCEEDED,
)

from reconciler.sandbox.actito.config import TransferUser

OK = paramiko.sftp.SFTP_OK


def ensure_host_key(folder: Path) -> paramiko.PKey:
    """The SFTP server's host key, made once: ECDSA P-256 (made in a millisecond, where a
    2048-bit RSA key takes a tenth of a second per sandbox start); a data dir made earlier
    keeps its RSA key."""
    path = folder / "sftp-host-key.pem"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        paramiko.ECDSAKey.generate(bits=256).write_private_key_file(str(path))
    return paramiko.PKey.from_path(path)


class _Auth(paramiko.ServerInterface):
    def __init__(self, users: dict[str, TransferUser]) -> None:
        self.users = users
        self.username = ""

    def get_allowed_auths(self, username: str) -> str:
        return "password,publickey"

    def check_auth_password(self, username: str, password: str) -> int:
        user = self.users.get(username)
        if user is not None and user.password and password == user.password:
            self.username = username
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        user = self.users.get(username)
        if user and user.public_key and user.public_key.split()[1:2] == [key.get_base64()]:
            self.username = username
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


class _Handle(paramiko.SFTPHandle):
    readfile: Any
    writefile: Any
    on_close: Callable[[], None] | None = None

    def close(self) -> None:
        super().close()
        if self.on_close is not None:
            self.on_close()


class _Files(paramiko.SFTPServerInterface):
    """A jailed local folder (the paramiko StubSFTPServer pattern)."""

    def __init__(self, server: _Auth, *args: Any, root: Path, on_drop: Callable[[], None],
                 **kwargs: Any) -> None:
        super().__init__(server, *args, **kwargs)
        self.home = (root / server.username).resolve()
        self.on_drop = on_drop

    def _local(self, path: str) -> str:
        local = (self.home / path.lstrip("/")).resolve()
        if local != self.home and self.home not in local.parents:
            raise PermissionError(path)
        return str(local)

    def _attributes(self, path: str, name: str | None = None) -> Any:
        try:
            attributes = paramiko.SFTPAttributes.from_stat(os.stat(self._local(path)))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno or 1)
        if name is not None:
            attributes.filename = name
        return attributes

    def canonicalize(self, path: str) -> str:
        return "/" + str(Path("/", path).resolve()).lstrip("/")

    def list_folder(self, path: str) -> Any:
        try:
            names = os.listdir(self._local(path))
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno or 1)
        return [self._attributes(f"{path}/{n}", n) for n in names]

    def stat(self, path: str) -> Any:
        return self._attributes(path)

    lstat = stat

    def open(self, path: str, flags: int, attr: Any) -> Any:
        try:
            descriptor = os.open(self._local(path), flags | getattr(os, "O_BINARY", 0), 0o644)
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno or 1)
        writing = bool(flags & (os.O_WRONLY | os.O_RDWR))
        mode = "r+b" if flags & os.O_RDWR else ("wb" if writing else "rb")
        if flags & os.O_APPEND and writing:
            mode = "ab"
        handle = _Handle(flags)
        file = os.fdopen(descriptor, mode)
        handle.readfile = file
        handle.writefile = file if writing else None
        handle.on_close = self.on_drop if writing else None
        return handle

    def _call(self, action: Callable[[], Any], notify: bool = False) -> int:
        try:
            action()
        except OSError as exc:
            return paramiko.SFTPServer.convert_errno(exc.errno or 1)
        if notify:
            self.on_drop()
        return OK

    def remove(self, path: str) -> int:
        return self._call(lambda: os.remove(self._local(path)))

    def rename(self, oldpath: str, newpath: str) -> int:
        return self._call(lambda: os.replace(self._local(oldpath), self._local(newpath)), True)

    posix_rename = rename

    def mkdir(self, path: str, attr: Any) -> int:
        return self._call(lambda: os.mkdir(self._local(path)))

    def rmdir(self, path: str) -> int:
        return self._call(lambda: os.rmdir(self._local(path)))

    def chattr(self, path: str, attr: Any) -> int:
        return OK


class SftpServer:
    """Accepts SSH connections on host:port (0 picks a free port) in a background thread."""

    def __init__(self, host: str, port: int, root: Path, users: list[TransferUser],
                 host_key: paramiko.PKey, on_drop: Callable[[], None]) -> None:
        self.users = {u.username: u for u in users}
        for user in users:
            (root / user.username).mkdir(parents=True, exist_ok=True)
        self.root, self.host_key, self.on_drop = root, host_key, on_drop
        self._socket = socket.create_server((host, port))
        self._socket.settimeout(0.1)
        self._stopped = threading.Event()
        self._transports: list[paramiko.Transport] = []
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._socket.getsockname()[1])

    def start(self) -> SftpServer:
        self._thread = threading.Thread(target=self._accept, daemon=True, name="actito-sftp")
        self._thread.start()
        return self

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            transport = paramiko.Transport(connection)
            transport.add_server_key(self.host_key)
            transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _Files,
                                            root=self.root, on_drop=self.on_drop)
            self._transports = [t for t in self._transports if t.is_active()] + [transport]
            try:
                transport.start_server(server=_Auth(self.users))
            except (paramiko.SSHException, EOFError, OSError):
                transport.close()

    def stop(self) -> None:
        self._stopped.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()
        for transport in self._transports:
            transport.close()
