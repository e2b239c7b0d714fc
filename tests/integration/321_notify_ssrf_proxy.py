"""txmail-notify through notify_proxy applies the same network policy to the
endpoint, and pins it: notify resolves the endpoint's host itself, checks
the address, and asks the proxy to tunnel to that address (CONNECT
127.0.0.1:port, never CONNECT txmail.test:port), so neither the proxy's own
resolver nor a changed DNS answer can lead it elsewhere. Denied endpoints
(127.0.0.2, [::1], 169.254.169.254) never reach the proxy at all and are
dead-lettered with "address denied by policy". The proxy itself is the
operator's and not subject to the tenant policy: it listens on 127.0.0.3,
a denied address. Runs its own txmail-notify (allow list 127.0.0.1/32)."""
import re
import select
import socket
import threading
from txtest import *
from txevents import *


class ConnectProxy:
    """An HTTP proxy that only tunnels (CONNECT); records every request line."""

    def __init__(self, host):
        self.lines = []
        self.sock, self.port = serve_tcp(self.handle, host=host, backlog=50)

    def handle(self, c):
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 65536:
            d = c.recv(4096)
            if not d:
                c.close()
                return
            head += d
        line = head.split(b"\r\n", 1)[0].decode("latin-1")
        self.lines.append(line)
        parts = line.split()
        if len(parts) < 2 or parts[0] != "CONNECT":
            c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            c.close()
            return
        host, port = parts[1].rsplit(":", 1)
        try:
            up = socket.create_connection((host.strip("[]"), int(port)), timeout=5)
        except OSError:
            c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            c.close()
            return
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        rest = head.split(b"\r\n\r\n", 1)[1]
        if rest:
            up.sendall(rest)
        socks = [c, up]
        try:
            while True:
                r, _, _ = select.select(socks, [], [], 30)
                if not r:
                    break
                for s in r:
                    d = s.recv(65536)
                    if not d:
                        raise OSError("closed")
                    (up if s is c else c).sendall(d)
        except OSError:
            pass
        c.close()
        up.close()


proxy = ConnectProxy("127.0.0.3")
own = instead_of_stack("notify", "-o", "notify_max_age=3s", "-o", "notify_retry_schedule=1s",
                       "-o", "notify_timeout=2s", "-o", "notify_allow_networks=127.0.0.1/32",
                       "-o", "notify_proxy=http://127.0.0.3:%d" % proxy.port, log_name="notify-321")

allowed = WebhookReceiver()
other = WebhookReceiver(host="127.0.0.2")
v6 = WebhookReceiver(host="::1")
acct = new_account()
A = acct["id"]
named = "http://txmail.test:%d/hook" % allowed.port
denied = [other.url, "http://[::1]:%d/hook" % v6.port, "http://169.254.169.254/latest/meta-data/"]
cases = []
for i, url in enumerate([named] + denied):
    job, received = insert_job(A, notification={"url": url})
    ev = event(A, job, rid(job), received, "DELIVER", "FINISHED", "DELIVERED", "OK",
               email="r%d@example.com" % i, frm="s@example.com")
    cases.append((url, job, ev))
publish_events([c[2] for c in cases])

wait_until(lambda: len(allowed.requests) >= 1, 20, "the POST to txmail.test through the proxy")
eq(json.loads(allowed.requests[0]["body"])["notifications"][0]["meta"]["tag"], cases[0][2]["tag"],
   "the allowed endpoint gets its notification")
rows = wait_until(lambda: (lambda r: r if len(r) == len(denied) else None)(
    sql("SELECT url, state, last_result FROM webhook_delivery WHERE account_id=%s", A)), 40,
    "a dead letter per denied endpoint")
by_url = {r[0]: r for r in rows}
for url in denied:
    r = by_url.get(url)
    check(r is not None and r[1] == "dead", "dead letter for %s" % url)
    check(r[2].startswith("connect error: address denied by policy"), "%s: last_result %r" % (url, r[2]))
# webhooks an earlier case of the shard left in retry (endpoints on 127.0.0.1, allowed here)
# may pass through this notify and its proxy too: every line must name 127.0.0.1 by address,
# and this case's endpoint exactly once
own_line = "CONNECT 127.0.0.1:%d HTTP/1.1" % allowed.port
check(all(re.fullmatch(r"CONNECT 127\.0\.0\.1:[0-9]+ HTTP/1\.1", l) for l in proxy.lines),
      "the proxy was asked only for checked addresses, never for a name or a denied address: %r" % proxy.lines)
eq(proxy.lines.count(own_line), 1, "the proxy was asked once for this case's endpoint")
eq(other.connections + v6.connections, 0, "no connection reached the denied receivers")
check(own.alive(), "notify survived")
done()
