"""A TCP link on loopback that can be cut and restored: the branch's line to head office."""

from __future__ import annotations

import logging
import selectors
import socket
import threading

logger = logging.getLogger(__name__)

_CHUNK = 65536


class Link:
    """Forwards connections from its own port to `target_port`, until `cut()`: then every open
    connection is dropped and new ones are refused (the port is closed) until `restore()`.

    A partition as the branch broker's bridge sees it: its connection drops, reconnects are
    refused, and it reconnects on its own retry schedule once the line is back. (Refused, not
    accepted and closed: mosquitto 2.0.11's bridge spins at full CPU after a TLS handshake that
    ends in EOF, with messages queued for it.)
    """

    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self._host = host
        self._target = (host, target_port)
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.port = 0
        self._listen()

    @property
    def up(self) -> bool:
        return self._server is not None

    def cut(self) -> None:
        """Drop every connection and refuse new ones."""
        with self._lock:
            server, self._server = self._server, None
            pairs, self._pairs = self._pairs, []
        if server is not None:
            _close(server)
        for a, b in pairs:
            _close(a)
            _close(b)
        if self._thread is not None:
            self._thread.join(2)
        logger.warning("link to %s:%d cut", *self._target)

    def restore(self) -> None:
        """Accept and forward connections again, on the same port."""
        if self._server is None:
            self._listen()
        logger.warning("link to %s:%d restored", *self._target)

    def close(self) -> None:
        self.cut()

    def _listen(self) -> None:
        server = socket.create_server((self._host, self.port))  # SO_REUSEADDR: the same port
        server.settimeout(0.2)
        self.port = server.getsockname()[1]
        with self._lock:
            self._server = server
        self._thread = threading.Thread(target=self._accept, args=(server,), name="link")
        self._thread.daemon = True
        self._thread.start()

    def _accept(self, server: socket.socket) -> None:
        while self._server is server:
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._server is not server:  # cut meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self._pairs.append((client, upstream))
            threading.Thread(
                target=self._pump, args=(client, upstream), name="link-pump", daemon=True
            ).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        peer = {a: b, b: a}
        with selectors.DefaultSelector() as selector:
            selector.register(a, selectors.EVENT_READ)
            selector.register(b, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select(timeout=0.5):
                        sock = key.fileobj
                        assert isinstance(sock, socket.socket)  # noqa: S101 - registered above
                        data = sock.recv(_CHUNK)
                        if not data:
                            return
                        peer[sock].sendall(data)
                    with self._lock:
                        if (a, b) not in self._pairs:
                            return
            except (OSError, ValueError):  # closed by cut()
                return
            finally:
                _close(a)
                _close(b)
                with self._lock:
                    if (a, b) in self._pairs:
                        self._pairs.remove((a, b))


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
