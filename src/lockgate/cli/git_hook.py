"""The git hooks of the hosted repositories: `python -m lockgate.cli.git_hook HOOK`.

git's receive-pack runs this once per hook per push, so it imports only the
standard library and leaves every decision to the server that started the
push: it reads what git hands the hook, POSTs it as JSON to
`$LOCKGATE_HOOK_URL/<hook>` with `$LOCKGATE_HOOK_TOKEN`, writes the returned
`messages` to stderr (the pusher sees them as `remote:` lines) and answers git
with the returned per-ref results.

- pre-receive: may refuse the whole push (exit 1).
- proc-receive: handles `refs/for/*` commands over git's pkt-line protocol
  and answers `ok <ref>` or `ng <ref> <reason>` for each.
- post-receive: reports what was updated; its answer changes nothing for git.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import urllib.parse
from typing import Any, BinaryIO

HOOKS = ("pre-receive", "proc-receive", "post-receive")
TIMEOUT_SECONDS = 900.0
FLUSH = None


class ProtocolError(RuntimeError):
    pass


# --- pkt-line ----------------------------------------------------------------


def read_pkt(stream: BinaryIO) -> bytes | None:
    """One pkt-line's payload, or None for a flush packet."""
    head = _read_exact(stream, 4)
    try:
        length = int(head, 16)
    except ValueError as error:
        raise ProtocolError(f"bad pkt-line length {head!r}") from error
    if length < 4:  # 0000 flush; 0001/0002 are delimiters, not used here
        return FLUSH
    return _read_exact(stream, length - 4)


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            raise ProtocolError("git closed the pkt-line stream early")
        data += chunk
    return data


def read_until_flush(stream: BinaryIO) -> list[bytes]:
    lines: list[bytes] = []
    while (pkt := read_pkt(stream)) is not FLUSH:
        lines.append(pkt.rstrip(b"\n"))
    return lines


def pkt(data: bytes) -> bytes:
    if len(data) > 65516:
        data = data[:65516]
    return b"%04x" % (len(data) + 4) + data


# --- calling the server --------------------------------------------------------


def call_server(hook: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST the payload to the server; its JSON answer.

    Plain HTTP/1.1 over a socket: http.client would cost 40 ms of imports on
    every hook run, and no proxy from the environment may sit between a hook
    and the server on the same machine.
    """
    url = urllib.parse.urlsplit(os.environ["LOCKGATE_HOOK_URL"].rstrip("/") + "/" + hook)
    body = json.dumps(payload).encode()
    host = url.hostname or "127.0.0.1"
    head = (
        f"POST {url.path} HTTP/1.1\r\n"
        f"Host: {url.netloc}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Lockgate-Hook-Token: {os.environ.get('LOCKGATE_HOOK_TOKEN', '')}\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection((host, url.port or 80), timeout=TIMEOUT_SECONDS) as sock:
        sock.sendall(head.encode() + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    response = b"".join(chunks)
    header, _, text = response.partition(b"\r\n\r\n")
    status_line = header.split(b"\r\n", 1)[0].decode("latin-1")
    parts = status_line.split(" ", 2)
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    if b"transfer-encoding: chunked" in header.lower():
        text = _unchunk(text)
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {text.decode('utf-8', 'replace').strip()}")
    result: dict[str, Any] = json.loads(text)
    return result


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


def push_options_from_env() -> list[str]:
    count = int(os.environ.get("GIT_PUSH_OPTION_COUNT", "0") or 0)
    return [os.environ.get(f"GIT_PUSH_OPTION_{i}", "") for i in range(count)]


def parse_commands(lines: list[str]) -> list[dict[str, str]]:
    commands = []
    for line in lines:
        parts = line.split(" ", 2)
        if len(parts) == 3:
            commands.append({"old": parts[0], "new": parts[1], "ref": parts[2]})
    return commands


def payload_for(hook: str, commands: list[dict[str, str]], options: list[str]) -> dict[str, Any]:
    return {
        "hook": hook,
        "project": os.environ.get("LOCKGATE_PROJECT", ""),
        "user": os.environ.get("REMOTE_USER") or None,
        "commands": commands,
        "push_options": options,
    }


def show(messages: list[str]) -> None:
    for line in messages:
        sys.stderr.write(line + "\n")
    sys.stderr.flush()


def _unreachable(error: Exception) -> str:
    return f"lockgate did not answer the {sys.argv[1]} hook: {error}"


# --- the hooks -----------------------------------------------------------------


def mark_fast_forwards(commands: list[dict[str, Any]]) -> None:
    """Tell the server which updates are fast-forwards: only the hook, running in
    git's quarantine, sees the pushed commits before they are accepted."""
    zero = "0" * 40
    for command in commands:
        if command["old"] != zero and command["new"] != zero:
            ancestry = subprocess.run(
                ["git", "merge-base", "--is-ancestor", command["old"], command["new"]],
                capture_output=True,
                check=False,
            )
            command["fast_forward"] = ancestry.returncode == 0


def ref_hook(hook: str) -> int:
    """pre-receive and post-receive: `<old> <new> <ref>` lines on stdin."""
    commands: list[dict[str, Any]] = list(parse_commands(sys.stdin.read().splitlines()))
    if hook == "pre-receive":
        mark_fast_forwards(commands)
    try:
        reply = call_server(hook, payload_for(hook, commands, push_options_from_env()))
    except Exception as error:
        show([f"ERROR: {_unreachable(error)}"])
        return 1
    show(reply.get("messages", []))
    return 0 if reply.get("ok", False) else 1


def proc_receive(stdin: BinaryIO, stdout: BinaryIO) -> int:
    version = read_until_flush(stdin)
    if not version or not version[0].startswith(b"version=1"):
        raise ProtocolError(f"unsupported proc-receive protocol: {version[:1]!r}")
    _, _, features = version[0].partition(b"\0")
    use_options = b"push-options" in features.split()
    stdout.write(pkt(b"version=1\0push-options" if use_options else b"version=1") + b"0000")
    stdout.flush()
    commands = parse_commands([line.decode("utf-8", "replace") for line in read_until_flush(stdin)])
    options: list[str] = []
    if use_options:
        options = [line.decode("utf-8", "replace") for line in read_until_flush(stdin)]
    try:
        reply = call_server("proc-receive", payload_for("proc-receive", commands, options))
        show(reply.get("messages", []))
        results = reply.get("results", [])
    except Exception as error:
        show([f"ERROR: {_unreachable(error)}"])
        results = ["internal server error"] * len(commands)
    out = b""
    for index, command in enumerate(commands):
        refused = results[index] if index < len(results) else "no answer from lockgate"
        ref = command["ref"].encode()
        if refused is None:
            out += pkt(b"ok " + ref)
        else:
            reason = " ".join(str(refused).split())  # one line, as git shows it in ()
            out += pkt(b"ng " + ref + b" " + reason.encode())
    stdout.write(out + b"0000")
    stdout.flush()
    return 0


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in HOOKS:
        sys.stderr.write(f"usage: python -m lockgate.cli.git_hook {{{'|'.join(HOOKS)}}}\n")
        return 2
    if not os.environ.get("LOCKGATE_HOOK_URL"):
        sys.stderr.write(
            "ERROR: this repository is hosted by lockgate: push through its server "
            "(http://<server>/<project>), not to the repository folder\n"
        )
        return 1
    if argv[1] == "proc-receive":
        return proc_receive(sys.stdin.buffer, sys.stdout.buffer)
    return ref_hook(argv[1])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
