"""A loopback port where nobody listens, for tests of "connection refused".

    with refusing_port() as port:
        ... connect to 127.0.0.1:port: refused ...

The port stays bound (by a socket that does not listen) for the whole block, so every
connection to it is refused and no other process can start listening there meanwhile.
A port found free and released at once could be taken by another test, or by the
ephemeral end of anyone's connection, before it is used.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def refusing_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])
