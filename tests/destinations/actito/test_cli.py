"""`reconciler sandbox` also starts the Actito API, FTPS and SFTP servers and says where."""
from __future__ import annotations

import ftplib
import io
import signal
import ssl
import subprocess
import sys
from pathlib import Path

import requests

from tests.destinations.actito.conftest import SEED


def test_sandbox_command_starts_actito_with_its_file_servers(tmp_path: Path) -> None:
    # Scenario: a user starts the sandboxes on free ports, gets a token, logs in over FTPS.
    command = [sys.executable, "-c", "from reconciler.cli import main; main()", "sandbox",
               "--selligent-port", "0", "--actito-port", "0", "--actito-ftps-port", "0",
               "--actito-sftp-port", "0", "--seed-file", str(SEED), "--data-dir", str(tmp_path)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        assert process.stdout is not None
        lines = []
        while not lines or not lines[-1].startswith("Press Ctrl-C"):
            lines.append(process.stdout.readline())
            assert lines[-1], "".join(lines)
        actito = next(line for line in lines if line.startswith("Actito sandbox listening"))
        url = actito.split(" on ", 1)[1].strip()
        token = requests.get(f"{url}/auth/token", headers={"Authorization": "sandbox-api-key"},
                             timeout=5)
        assert token.json()["expiresIn"] == "900s"
        ftps = next(line for line in lines if "FTPS (explicit TLS) on" in line)
        host, port = ftps.split(" on ", 1)[1].split(",")[0].split(":")
        assert any("SFTP on 127.0.0.1:" in line and "host key ecdsa-sha2-nistp256" in line
                   for line in lines)
        context = ssl.create_default_context(cafile=str(tmp_path / "actito" / "ftps-cert.pem"))
        client = ftplib.FTP_TLS(context=context, timeout=5)
        client.connect(host, int(port))
        client.login("sandbox", "sandbox-ftp-password")
        client.prot_p()
        client.storbinary("STOR hello.csv", io.BytesIO(b"customerId\nC000001\n"))
        assert "hello.csv" in client.nlst()
        client.quit()
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=10)
    assert process.returncode == 0 and "Sandboxes stopped." in output
