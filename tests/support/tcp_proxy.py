"""A TCP proxy a test controls, between a client (the SDK, an agent) and the real server.

`cut()` closes every open connection and stops listening, so new connections are refused, as
when the server's host is unreachable; `restore()` listens again on the same port.
`drop_next_response(marker)` forwards the next request containing `marker` but closes the
connection instead of returning the server's answer: the request was applied, the client
cannot know it (the ambiguous failure a retry must not turn into a duplicate).
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from types import TracebackType

_CHUNK = 65536


class _Pair:
    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client = client
        self.upstream = upstream
        self.doomed = False  # the request in flight matched drop_next_response: swallow its answer

    def close(self) -> None:
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `upstream_host`:`upstream_port`, one thread per direction."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self._lock = threading.Lock()
        self._pairs: set[_Pair] = set()
        self._listener: socket.socket | None = None
        self._drop_marker: bytes | None = None
        self.dropped_responses = 0
        self.connections = 0
        self.port = self._listen(0)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _listen(self, port: int) -> int:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen(64)
        with self._lock:
            self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), name="tcp-proxy-accept", daemon=True).start()
        bound: int = listener.getsockname()[1]
        return bound

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: cut() or close()
            try:
                upstream = socket.create_connection(self.upstream, timeout=10)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            pair = _Pair(client, upstream)
            with self._lock:
                if self._listener is not listener:  # cut while connecting
                    pair.close()
                    return
                self._pairs.add(pair)
                self.connections += 1
            threading.Thread(target=self._pump, args=(pair, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, False), daemon=True).start()

    def _pump(self, pair: _Pair, to_server: bool) -> None:
        source, target = (pair.client, pair.upstream) if to_server else (pair.upstream, pair.client)
        try:
            while True:
                data = source.recv(_CHUNK)
                if not data:
                    break
                with self._lock:
                    if to_server and self._drop_marker is not None and self._drop_marker in data:
                        pair.doomed = True
                        self._drop_marker = None
                    swallow = not to_server and pair.doomed
                    if swallow:
                        self.dropped_responses += 1
                if swallow:
                    break
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._pairs.discard(pair)
            pair.close()

    # --- what a test does ---

    def cut(self) -> None:
        """Close every connection and refuse new ones until `restore()`."""
        with self._lock:
            listener, self._listener = self._listener, None
            pairs, self._pairs = set(self._pairs), set()
        if listener is not None:
            listener.close()
        for pair in pairs:
            pair.close()

    def restore(self) -> None:
        with self._lock:
            if self._listener is not None:
                return
        self._listen(self.port)

    def drop_next_response(self, marker: bytes) -> None:
        """Let the next request containing `marker` through, then cut that connection before its answer."""
        with self._lock:
            self._drop_marker = marker

    def close(self) -> None:
        self.cut()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()


@contextlib.contextmanager
def tcp_proxy(upstream_host: str, upstream_port: int) -> Iterator[TcpProxy]:
    with TcpProxy(upstream_host, upstream_port) as proxy:
        yield proxy
