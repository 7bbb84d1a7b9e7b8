"""A CGI program (git's `http-backend`) run as a raw ASGI handler, streaming both ways.

Request bodies go to the program's stdin as the server receives them (chunked
or not), and its stdout goes to the client as the program writes it, so a
500 MB clone or push never sits in the server's memory. This handler owns
`receive` and `send` alone: Starlette's StreamingResponse listens for a client
disconnect with a concurrent `receive()`, which steals request-body chunks
from a push still in flight (a large push arrived corrupted that way).

The program runs in a session of its own so that a client disconnect can kill
it together with the upload-pack or receive-pack it started.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Mapping, Sequence
from typing import Any

log = logging.getLogger(__name__)

Message = dict[str, Any]
Receive = Any  # the ASGI callables; typed loosely to keep adapters free of Starlette
Send = Any

CHUNK = 64 * 1024
MAX_HEADER_BYTES = 64 * 1024


class CgiError(RuntimeError):
    """The program ended or misbehaved before it sent a CGI header block."""


async def run_cgi(
    receive: Receive,
    send: Send,
    *,
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: str | None = None,
) -> int:
    """Serve one HTTP request with the CGI program `argv`; returns its exit status."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        start_new_session=True,
    )
    assert process.stdin is not None and process.stdout is not None
    assert process.stderr is not None
    disconnected = asyncio.Event()
    errors: list[bytes] = []
    pump = asyncio.create_task(_pump_request(receive, process, disconnected))
    drain = asyncio.create_task(_collect_stderr(process.stderr, errors, argv[-1]))
    finished = False
    try:
        try:
            status, headers = await _read_headers(process.stdout)
        except CgiError as error:
            await drain
            detail = b"".join(errors).decode("utf-8", "replace").strip()
            log.error("%s: %s %s", " ".join(argv), error, detail)
            await _plain(send, 500, f"{error}\n{detail}\n".encode())
            finished = True
            return await process.wait()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        while not disconnected.is_set():
            chunk = await process.stdout.read(CHUNK)
            if not chunk:
                break
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
        code = await process.wait()
        finished = True
        return code
    finally:
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        if not finished or disconnected.is_set():
            _kill(process)
            await process.wait()
        await drain


async def _pump_request(
    receive: Receive, process: asyncio.subprocess.Process, disconnected: asyncio.Event
) -> None:
    """Copy the request body into stdin, then wait for the client to go away."""
    stdin = process.stdin
    assert stdin is not None
    open_ = True
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            disconnected.set()
            # A client that left mid-way wants nothing more: stop the program
            # (and the pack process it started) instead of letting it run on.
            if process.returncode is None:
                _kill(process)
            return
        if message["type"] != "http.request":
            continue
        body: bytes = message.get("body", b"")
        if open_ and body:
            try:
                stdin.write(body)
                await stdin.drain()
            except (BrokenPipeError, ConnectionResetError):
                # The program stopped reading (it answered an error); the
                # rest of the body is read and dropped.
                open_ = False
        if open_ and not message.get("more_body", False):
            stdin.close()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                await stdin.wait_closed()
            open_ = False


async def _collect_stderr(stream: asyncio.StreamReader, into: list[bytes], name: str) -> None:
    kept = 0
    while line := await stream.readline():
        if kept < MAX_HEADER_BYTES:
            into.append(line)
            kept += len(line)
        log.warning("%s: %s", name, line.decode("utf-8", "replace").rstrip())


async def _read_headers(stdout: asyncio.StreamReader) -> tuple[int, list[tuple[bytes, bytes]]]:
    """The status and headers of the CGI header block, which ends with an empty line."""
    status = 200
    headers: list[tuple[bytes, bytes]] = []
    size = 0
    while True:
        try:
            line = await stdout.readuntil(b"\n")
        except asyncio.IncompleteReadError as error:
            raise CgiError("the git backend ended before its response headers") from error
        except asyncio.LimitOverrunError as error:
            raise CgiError("the git backend sent an overlong header line") from error
        size += len(line)
        if size > MAX_HEADER_BYTES:
            raise CgiError("the git backend sent too many header bytes")
        line = line.rstrip(b"\r\n")
        if not line:
            return status, headers
        name, sep, value = line.partition(b":")
        if not sep:
            raise CgiError(f"the git backend sent a malformed header line {line[:80]!r}")
        name = name.strip().lower()
        value = value.strip()
        if name == b"status":
            code = value.split(b" ", 1)[0]
            if not code.isdigit():
                raise CgiError(f"the git backend sent a malformed status {value[:80]!r}")
            status = int(code)
        else:
            headers.append((name, value))


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _kill(process: asyncio.subprocess.Process) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
