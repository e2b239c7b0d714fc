"""Tracking floods (issue 11): 1,000 loads of one pixel and 1,000 hits of one
link make one event each, not one per hit (the events on txmail.events are
what the recorder turns into rows and notify into webhooks), while every hit
is still answered (200 pixel, 302 redirect); nothing legitimate is lost: each
distinct link of a message is recorded, and a link scanner's prefetch does
not hide the recipient's own click. Beyond the 60 s dedup window each token
(track_token_events) and each client address (track_client_events) has a
rate; private instances with the window off show both limits."""
import http.client
import urllib.parse
import uuid

from txtest import *
from txrest import free_port
import txtrack

U = urllib.parse.urlsplit(E["TXMAIL_TRACK_URL"])
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120 Safari/537.36"
Q = "t506events"
declare_queue(Q, "txmail.events", "#")
drain(Q)


class Conn:
    def __init__(self, port, source="127.0.0.1"):
        self.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=(source, 0))

    def get(self, path, ua=BROWSER):
        self.c.request("GET", path, headers={"User-Agent": ua})
        r = self.c.getresponse()
        r.read()
        return r.status, r.getheader("Location")


def events(job, settle=3.0):
    time.sleep(settle)
    return [d for _, b in drain(Q, timeout=0.5) for d in event_docs(b) if d.get("job") == job]


c = Conn(U.port)
wait_until(lambda: c.get("/health")[0] == 200, 30, "track up")

# ---- 1,000 loads of one pixel: every one answered, one event
job = str(uuid.uuid4())
t_open = txtrack.token("o", job, 0, 0)
answers = [c.get("/t/o/%s.gif" % t_open)[0] for _ in range(1000)]
eq(answers.count(200), 1000, "all 1,000 pixel loads answered 200")
evs = events(job)
eq(len(evs), 1, "1,000 loads of one pixel: one OPENED event (got %d)" % len(evs))

# ---- 1,000 hits of one link: every one redirected, one event
url = "https://shop.example.com/flood"
t_click = txtrack.token("c", job, 0, 0, url=url)
answers = [c.get("/t/c/" + t_click) for _ in range(1000)]
eq(answers.count((302, url)), 1000, "all 1,000 clicks redirected")
evs = events(job)
eq([e["type"] for e in evs], ["CLICKED"], "1,000 hits of one link: one CLICKED event")

# ---- nothing legitimate lost: each link recorded; scanner first, then the person
links = ["https://shop.example.com/l%d" % i for i in range(10)]
got = []
for u in links:
    tok = txtrack.token("c", job, 0, 0, url=u)  # one token per link, as in a message
    got += [c.get("/t/c/" + tok) == (302, u) for _ in range(5)]
eq(got.count(True), 50, "5 hits of each of 10 links: all redirected")
evs = events(job)
eq(sorted(e["content"]["tracking"]["url"] for e in evs), sorted(links), "each of 10 links recorded once")
scanned = "https://shop.example.com/scanned"
tok = txtrack.token("c", job, 0, 0, url=scanned)
c.get("/t/c/" + tok, ua="Mozilla/5.0 (compatible; Barracuda Sentinel)")
c.get("/t/c/" + tok, ua="Mozilla/5.0 (compatible; Barracuda Sentinel)")
c.get("/t/c/" + tok)
c.get("/t/c/" + tok)
evs = events(job)
eq(sorted(e["content"]["tracking"]["automated"] for e in evs), [False, True],
   "a scanner's prefetch and the person's click: one event each")


def private(*opts):
    port = free_port()
    args = ["-o", "track_listen=127.0.0.1:%d" % port, "-o", "metrics_dir="]
    for o in opts:
        args += ["-o", o]
    p = Program("txmail-track", *args, log_name="track-flood-%d" % port)
    pc = Conn(port)

    def up():
        try:
            return Conn(port).get("/health")[0] == 200
        except OSError:
            return False
    wait_until(up, 20, "private txmail-track")
    return p, port


# ---- the per-token rate (dedup window off)
p, port = private("track_dedup_window=0", "track_token_events=5")
job2 = str(uuid.uuid4())
t2 = txtrack.token("o", job2, 0, 0)
pc = Conn(port)
answers = [pc.get("/t/o/%s.gif" % t2)[0] for _ in range(200)]
eq(answers.count(200), 200, "all answered")
eq(len(events(job2)), 5, "track_token_events = 5: 200 loads make 5 events")
p.stop()

# ---- the per-client rate
p, port = private("track_dedup_window=0", "track_token_events=100000", "track_client_events=10")
job3 = str(uuid.uuid4())
t3 = txtrack.token("o", job3, 0, 0)
pc = Conn(port)
for _ in range(100):
    pc.get("/t/o/%s.gif" % t3)
eq(len(events(job3)), 10, "track_client_events = 10: 100 loads from one address make 10 events")
other = Conn(port, "127.0.0.2")
eq(other.get("/t/o/%s.gif" % t3)[0], 200, "another address")
eq(len(events(job3)), 1, "another client address has its own rate")
# a first hit is recorded even when the address's rate is used up
t4 = txtrack.token("c", job3, 0, 0, url="https://shop.example.com/first")
eq(pc.get("/t/c/" + t4), (302, "https://shop.example.com/first"), "redirect")
eq(len(events(job3)), 1, "the first click of a link is recorded despite the used-up address rate")
p.stop()
done()
