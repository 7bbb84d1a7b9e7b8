"""Commands for local nodes from an ansible-playbook that runs in the executor's
sandbox: the `lockgate_sandbox` connection sends each one over a Unix socket to
this broker, in the executor, which runs it in the node's own sandbox.

Why not start the node's bubblewrap from inside the executor's one: a sandbox
made in a user namespace cannot mount a /proc for its own pid namespace
(the kernel refuses while the outer /proc has read-only parts over it, which
bubblewrap puts there), and it could not switch to the node's unprivileged
user either; the node's folder and its settings would also have to be
visible, and writable, to the untrusted ansible-playbook. Through the broker,
the node sandbox is made exactly as for trusted playbooks, and the untrusted
side sees neither node folders nor settings: only this socket, which runs
commands in the nodes of its own build.

The wire format is small and never unpickled: each message is a 4-byte
big-endian length and that many bytes; a request is a JSON header (`root`,
`argv`, `timeout`) then the command's stdin; a reply a JSON header
(`returncode` and `lost`, or `gone` with the reason) then stdout, then stderr.

A request whose header says `"stream": true` (the live console's watcher) is
answered as it runs instead: after the header and an empty stdin message,
the socket carries the command's stdout as it comes one way and its stdin the
other; closing the socket kills the command.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from lockgate.adapters.providers import sandbox

BROKER = "LOCKGATE_NODE_BROKER"  # the socket's path, in the sandboxed ansible-playbook
_LENGTH = struct.Struct(">I")
_MAX_HEADER = 1 << 20


def _send(sock: socket.socket, data: bytes) -> None:
    sock.sendall(_LENGTH.pack(len(data)) + data)


def _receive(sock: socket.socket, limit: int | None = None) -> bytes:
    (size,) = _LENGTH.unpack(_exactly(sock, _LENGTH.size))
    if limit is not None and size > limit:
        raise ValueError(f"a message of {size} bytes is over the limit of {limit}")
    return _exactly(sock, size)


def _exactly(sock: socket.socket, size: int) -> bytes:
    chunks: list[bytes] = []
    left = size
    while left:
        chunk = sock.recv(min(left, 1 << 20))
        if not chunk:
            raise ConnectionError("the other side closed the connection")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def run_through(
    socket_path: str,
    root: Path,
    argv: list[str],
    *,
    stdin: bytes | None,
    timeout: float | None,
) -> sandbox.Result:
    """Run `argv` in the node at `root` through the broker at `socket_path`;
    NodeGone as `sandbox.run_in_node` raises it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(socket_path)
            header = {"root": str(root), "argv": argv, "timeout": timeout}
            _send(sock, json.dumps(header).encode())
            _send(sock, stdin or b"")
            reply = json.loads(_receive(sock, _MAX_HEADER))
            stdout = _receive(sock)
            stderr = _receive(sock)
        except (OSError, ValueError) as problem:
            raise sandbox.NodeGone(f"the executor's node broker failed: {problem}") from None
    if "gone" in reply:
        raise sandbox.NodeGone(str(reply["gone"]))
    return sandbox.Result(
        int(reply["returncode"]), stdout, stderr, lost=bool(reply.get("lost", False))
    )


class StreamedCommand:
    """A command run in a node through the broker, read as it runs: what the
    live console's `Follower` needs of a `subprocess.Popen` (stdout lines,
    stdin, poll, wait, kill)."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._ended = threading.Event()
        self.stdin = _SocketInput(sock)
        self.stdout = self._lines(sock.makefile("rb"))

    def _lines(self, reader: Any) -> Iterator[bytes]:
        try:
            yield from reader
        except OSError:
            return
        finally:
            self._ended.set()

    def poll(self) -> int | None:
        return 0 if self._ended.is_set() else None

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired("node broker stream", timeout or 0)
        return 0

    def kill(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()
        self._ended.set()


class _SocketInput:
    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def write(self, data: bytes) -> int:
        self._sock.sendall(data)
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_WR)


def stream_through(socket_path: str, root: Path, argv: list[str]) -> StreamedCommand:
    """Start `argv` in the node at `root` through the broker, its output read as
    it comes; NodeGone when the broker refuses or is gone."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(socket_path)
        _send(sock, json.dumps({"root": str(root), "argv": argv, "stream": True}).encode())
        _send(sock, b"")
        reply = json.loads(_receive(sock, _MAX_HEADER))
    except (OSError, ValueError) as problem:
        sock.close()
        raise sandbox.NodeGone(f"the executor's node broker failed: {problem}") from None
    if "gone" in reply:
        sock.close()
        raise sandbox.NodeGone(str(reply["gone"]))
    return StreamedCommand(sock)


class NodeBroker:
    """Serves the nodes `roots` (folder -> token) of one build on `socket_path`
    while a playbook runs. `close` stops it and kills what is still running in
    those nodes, as ending ansible-playbook kills its own commands."""

    def __init__(self, socket_path: Path, roots: Mapping[str, str | None]) -> None:
        self.path = socket_path
        self._roots = dict(roots)
        self._busy: dict[str, int] = {}
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._server.bind(str(socket_path))
        self._server.listen(64)
        self._closed = False
        self._accepting = threading.Thread(target=self._accept, name="node-broker", daemon=True)
        self._accepting.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            worker = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            with self._lock:
                if self._closed:
                    conn.close()
                    return
                self._threads.append(worker)
            worker.start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            try:
                header = json.loads(_receive(conn, _MAX_HEADER))
                stdin = _receive(conn)
                if header.get("stream") is True:
                    self._stream(conn, header)
                    return
                reply, out, err = self._run(header, stdin)
                _send(conn, json.dumps(reply).encode())
                _send(conn, out)
                _send(conn, err)
            except (OSError, ValueError):
                return  # the playbook went away, or sent nonsense: nothing to answer

    def _refusal(self, header: dict[str, Any]) -> str | None:
        root = str(header.get("root"))
        argv = header.get("argv")
        if root not in self._roots:
            return f"{root} is not a node of this build"
        if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv) or not argv:
            return "the command must be a list of strings"
        return None

    def _stream(self, conn: socket.socket, header: dict[str, Any]) -> None:
        refused = self._refusal(header)
        root = str(header.get("root"))
        with self._lock:
            if refused is None and self._closed:
                refused = "the playbook has ended"
            if refused is None:
                self._busy[root] = self._busy.get(root, 0) + 1
        if refused is not None:
            _send(conn, json.dumps({"gone": refused}).encode())
            return
        try:
            try:
                process = sandbox.popen_in_node(
                    Path(root), list(header["argv"]), token=self._roots[root]
                )
            except sandbox.NodeGone as gone:
                _send(conn, json.dumps({"gone": str(gone)}).encode())
                return
            _send(conn, json.dumps({"started": True}).encode())
            copier = threading.Thread(target=_copy_out, args=(process, conn), daemon=True)
            copier.start()
            assert process.stdin is not None
            with contextlib.suppress(OSError, ValueError):
                while chunk := conn.recv(1 << 16):
                    process.stdin.write(chunk)
                    process.stdin.flush()
            with contextlib.suppress(OSError):
                process.stdin.close()
            copier.join(timeout=10)
            if process.poll() is None:
                process.kill()
            process.wait()
        finally:
            with self._lock:
                self._busy[root] -= 1

    def _run(self, header: dict[str, Any], stdin: bytes) -> tuple[dict[str, Any], bytes, bytes]:
        root = str(header.get("root"))
        argv = header.get("argv")
        timeout = header.get("timeout")
        refused = self._refusal(header)
        if refused is not None:
            return {"gone": refused}, b"", b""
        assert isinstance(argv, list)
        if timeout is not None and not isinstance(timeout, int | float):
            return {"gone": "the timeout must be a number of seconds"}, b"", b""
        with self._lock:
            if self._closed:
                return {"gone": "the playbook has ended"}, b"", b""
            self._busy[root] = self._busy.get(root, 0) + 1
        try:
            result = sandbox.run_in_node(
                Path(root),
                argv,
                stdin=stdin,
                token=self._roots[root],  # the build's own, whatever the client says
                timeout=timeout,
            )
        except sandbox.NodeGone as gone:
            return {"gone": str(gone)}, b"", b""
        finally:
            with self._lock:
                self._busy[root] -= 1
        reply = {"returncode": result.returncode, "lost": result.lost}
        return reply, result.stdout, result.stderr

    def close(self) -> None:
        with self._lock:
            self._closed = True
            busy = [root for root, count in self._busy.items() if count]
            threads = list(self._threads)
        # wake the accepting thread with a connection of our own: it then sees closed
        with (
            socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as poke,
            contextlib.suppress(OSError),
        ):
            poke.connect(str(self.path))
        self._accepting.join(timeout=5)
        self._server.close()
        for root in busy:
            sandbox.kill_node(Path(root))
        for worker in threads:
            worker.join(timeout=5)
        self.path.unlink(missing_ok=True)


def _copy_out(process: subprocess.Popen[bytes], conn: socket.socket) -> None:
    assert process.stdout is not None
    with contextlib.suppress(OSError):
        # os.read: what is there now, not a full buffer (lines must come as they come)
        while chunk := os.read(process.stdout.fileno(), 1 << 16):
            conn.sendall(chunk)
        conn.shutdown(socket.SHUT_WR)
