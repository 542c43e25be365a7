"""A TCP proxy on 127.0.0.1 that breaks links: the dropped connection a test (or the conformance kit) needs.

Put it between a client and a real server (an sshd, the loopback OneRoster server) and the client
sees a connection reset, or a stalled one, after a given number of bytes from the server: what a
flaky link, a restarted server or a dead NAT entry does to a long download.
"""

from __future__ import annotations

import contextlib
import socket
import threading


class CuttingProxy:
    """A TCP proxy on 127.0.0.1 that breaks a connection after ``cut_after`` bytes from the server.

    ``stall=False`` drops the connection (a reset link, a restarted server); ``stall=True`` keeps it
    open but forwards nothing more (a dead link nobody closes: only a timeout notices). Only the
    first ``cut_connections`` connections are broken; later ones pass everything, as a flaky link
    that recovers would. ``sessions`` holds how many bytes the server sent on each connection that has
    ended (so a test can aim a later cut at a point inside the transfer).
    """

    def __init__(self, target_port: int, cut_after: int, cut_connections: int, stall: bool = False) -> None:
        self.target_port = target_port
        self.cut_after = cut_after
        self.cut_connections = cut_connections
        self.stall = stall
        self.connections = 0
        self.cuts = 0
        self.sessions: list[int] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            limit = self.cut_after if self.connections <= self.cut_connections else None
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:  # the server is not there: the client sees its connection closed, as it would
                client.close()
                continue
            threading.Thread(target=self._pump, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, limit, True), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, limit: int | None, from_server: bool = False) -> None:
        sent = 0
        try:
            while data := src.recv(16384):
                if limit is not None and sent + len(data) > limit:
                    dst.sendall(data[: limit - sent])
                    self.cuts += 1
                    if self.stall:
                        self._stop.wait()
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        if from_server:
            self.sessions.append(sent)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        self._stop.set()
        self._listener.close()
