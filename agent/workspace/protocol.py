"""Length-prefixed JSON messages between the agent process and a worker (stream sockets).

JSON rather than pickle, so a misbehaving worker cannot make the agent process run code.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # workers do not import asyncio unless a cell needs it
    import asyncio

_HEADER = struct.Struct("!I")
MAX_MESSAGE = 64 * 2**20
MAX_PACKET = 2**20  # one control message between the agent and the server (SOCK_SEQPACKET)


def encode(message: dict[str, Any]) -> bytes:
    data = json.dumps(message).encode()
    return _HEADER.pack(len(data)) + data


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(encode(message))


def receive(sock: socket.socket) -> dict[str, Any] | None:
    """The next message from a blocking socket, or ``None`` at end of stream."""
    header = _receive_exactly(sock, _HEADER.size)
    if header is None:
        return None
    body = _receive_exactly(sock, _size(header))
    if body is None:
        return None
    return json.loads(body)


async def read(reader: asyncio.StreamReader) -> dict[str, Any]:
    """The next message; raises ``asyncio.IncompleteReadError`` at end of stream."""
    header = await reader.readexactly(_HEADER.size)
    return json.loads(await reader.readexactly(_size(header)))


def _size(header: bytes) -> int:
    (size,) = _HEADER.unpack(header)
    if size > MAX_MESSAGE:
        raise ValueError(f"workspace message of {size} bytes exceeds the limit of {MAX_MESSAGE}")
    return size


def _receive_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = sock.recv(min(left, 2**20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)
