"""slowloris - many connections from one loopback address that send their
request header one byte every few seconds (the slowloris attack), for the
listener cases (115-119 REST, 505-509 track).

    s = Slow("127.0.0.1", port, 2000, b"GET / HTTP/1.1\\r\\nHost: x\\r\\n...")
    ... s.open_count(), s.wait_closed(timeout) ...
    s.stop()

A connection counts as closed when the server ends it (EOF, reset, or a
failed send). Each connection remembers when it was opened and closed, so
a case can tell "refused at once" (per-client cap) from "closed at the
header deadline"."""
import errno
import socket
import ssl
import threading
import time


class Slow:
    def __init__(self, host, port, n, data, source="127.0.0.1", interval=2.0, tls_ctx=None, tls_n=0):
        """n connections from source, each sending data one byte per interval;
        the first tls_n of them first complete a TLS handshake with tls_ctx
        (then trickle data inside TLS); without tls_ctx data is sent raw."""
        self.data = data
        self.interval = interval
        self.conns = []          # [sock, opened, closed or None, sent]
        self.lock = threading.Lock()
        self.failed_connect = 0
        for i in range(n):
            try:
                raw = socket.create_connection((host, port), timeout=5, source_address=(source, 0))
                s = raw
                if tls_ctx is not None and i < tls_n:
                    s = tls_ctx.wrap_socket(raw, server_hostname=host)
                s.setblocking(False)
                c = [s, time.time(), None, 0]
                self._send(c)
                self.conns.append(c)
            except OSError:
                self.failed_connect += 1
        self.stopping = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @staticmethod
    def _check_open(s):
        """raise ConnectionResetError when the server closed s (no data consumed on plain sockets)"""
        try:
            if isinstance(s, ssl.SSLSocket):
                if s.recv(1) == b"":
                    raise ConnectionResetError
            elif s.recv(1, socket.MSG_PEEK) == b"":
                raise ConnectionResetError
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            pass

    @staticmethod
    def _closed(c):
        c[2] = time.time()
        try:
            c[0].close()
        except OSError:
            pass

    def _send(self, c):
        if c[2] is not None:
            return
        s = c[0]
        try:
            self._check_open(s)
            s.send(self.data[c[3] % len(self.data):c[3] % len(self.data) + 1])
            c[3] += 1
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError, BlockingIOError):
            pass
        except (OSError, ssl.SSLError) as e:
            if isinstance(e, OSError) and e.errno in (errno.EAGAIN,):
                return
            self._closed(c)

    def _run(self):
        while not self.stopping:
            t0 = time.time()
            with self.lock:
                for c in self.conns:
                    self._send(c)
            while not self.stopping and time.time() - t0 < self.interval:
                # notice closures quickly without sending more
                with self.lock:
                    for c in self.conns:
                        if c[2] is None:
                            self._probe(c)
                time.sleep(0.2)

    def _probe(self, c):
        try:
            self._check_open(c[0])
        except (OSError, ssl.SSLError):
            self._closed(c)

    def open_count(self):
        with self.lock:
            return sum(1 for c in self.conns if c[2] is None)

    def lifetimes(self):
        """seconds each closed connection stayed open"""
        with self.lock:
            return [c[2] - c[1] for c in self.conns if c[2] is not None]

    def wait_closed(self, timeout):
        end = time.time() + timeout
        while time.time() < end and self.open_count() > 0:
            time.sleep(0.2)
        return self.open_count()

    def stop(self):
        self.stopping = True
        self.thread.join(10)
        with self.lock:
            for c in self.conns:
                if c[2] is None:
                    try:
                        c[0].close()
                    except OSError:
                        pass
