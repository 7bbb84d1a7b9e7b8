"""A real OpenSSH server on a loopback port, run by the test itself: its own host
key, config, authorized key and pid file in the test's folder, for static
nodes. Nothing global is touched except sshd's privilege separation folder
(/run/sshd), which sshd refuses to start without."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

SSHD = "/usr/sbin/sshd"


class SshdUnavailable(RuntimeError):
    pass


@dataclass
class SshServer:
    address: str
    port: int
    user: str
    client_key: Path  # private key the server accepts
    host_public_key: str
    folder: Path
    process: subprocess.Popen[bytes]

    @property
    def log(self) -> str:
        path = self.folder / "sshd.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> SshServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def sshd_available() -> str | None:
    """None when a test can start sshd here, else why not."""
    if not Path(SSHD).exists():
        return f"{SSHD} is missing (apt-get install openssh-server)"
    if shutil.which("ssh-keygen") is None or shutil.which("ssh") is None:
        return "ssh and ssh-keygen are missing (apt-get install openssh-client)"
    return None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _keygen(path: Path) -> None:
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lockgate-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )


def start_sshd(folder: Path, *, user: str | None = None, timeout: float = 10.0) -> SshServer:
    """Start sshd on 127.0.0.1 at a free port, accepting one generated key for
    `user` (the current user by default); returns once it accepts connections."""
    problem = sshd_available()
    if problem:
        raise SshdUnavailable(problem)
    folder.mkdir(parents=True, exist_ok=True)
    user = user or getpass.getuser()
    host_key = folder / "host_ed25519"
    client_key = folder / "client_ed25519"
    for key in (host_key, client_key):
        if not key.exists():
            _keygen(key)
    authorized = folder / "authorized_keys"
    authorized.write_text(client_key.with_suffix(".pub").read_text())
    authorized.chmod(0o600)
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {host_key}",
                f"PidFile {folder / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "PubkeyAuthentication yes",
                "UsePAM no",
                # the test folder belongs to the test, which may be root
                "StrictModes no",
                "PermitRootLogin prohibit-password",
                f"AllowUsers {user}",
                "MaxSessions 64",
                "MaxStartups 64",
                "Subsystem sftp internal-sftp",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
    log = open(folder / "sshd.log", "ab")  # noqa: SIM115 - kept open by the child
    process = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(config)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    server = SshServer(
        address="127.0.0.1",
        port=port,
        user=user,
        client_key=client_key,
        host_public_key=host_key.with_suffix(".pub").read_text().strip(),
        folder=folder,
        process=process,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SshdUnavailable(f"sshd exited with {process.returncode}: {server.log}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.05)
    server.stop()
    raise SshdUnavailable(f"sshd did not listen on port {port} within {timeout} s: {server.log}")
