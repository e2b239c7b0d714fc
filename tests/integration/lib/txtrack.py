"""txtrack - tracking tokens of contract §15.5, computed independently of
the C implementation (tests and benchmarks mint their own tokens with the
stack's tracking key)."""
import base64
import hashlib
import hmac
import os
import struct
import time
import urllib.parse
import uuid


def default_host():
    """The stack's tracking host (tracking_base_url), as the MAC covers it."""
    u = os.environ.get("TXMAIL_TRACK_URL", "http://127.0.0.1")
    return (urllib.parse.urlsplit(u).hostname or "127.0.0.1").lower()


def keys(path=None):
    """The key set of tracking_keys_file: list of (id, key bytes), newest first."""
    path = path or os.path.join(os.environ["TXMAIL_STACK_DIR"], "secrets", "tracking_keys")
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            kid, hx = line.split(":", 1)
            out.append((int(kid), bytes.fromhex(hx)))
    return out


def token(kind, job, block=0, addr=0, expiry=None, url=None, key=None, host=None):
    """kind 'o', 'c' or 'u'; job a UUID string; url (str) for clicks; host the
    tracking host it is issued for (default: the stack's; lower-case, no port)."""
    kid, k = key or keys()[0]
    host = (host or default_host()).lower()
    if expiry is None:
        expiry = int(time.time()) + 10 * 86400
    payload = bytes([1, kid, ord(kind)]) + uuid.UUID(job).bytes + struct.pack(">III", block, addr, expiry)
    if kind == "c":
        payload += url.encode()
    tag = hmac.new(k, host.encode() + b"\0" + payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(payload + tag).rstrip(b"=").decode()


def decode(tok, key=None, host=None):
    """(kind, job, block, addr, expiry, url) of a token issued for host (default:
    the stack's); ValueError when it does not verify."""
    host = (host or default_host()).lower()
    pad = "=" * (-len(tok) % 4)
    raw = base64.urlsafe_b64decode(tok + pad)
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != tok:
        raise ValueError("not canonical")
    payload, tag = raw[:-32], raw[-32:]
    ks = dict(keys()) if key is None else {key[0]: key[1]}
    if payload[0] != 1 or payload[1] not in ks:
        raise ValueError("version or key")
    if not hmac.compare_digest(hmac.new(ks[payload[1]], host.encode() + b"\0" + payload, hashlib.sha256).digest(), tag):
        raise ValueError("tag")
    kind = chr(payload[2])
    job = str(uuid.UUID(bytes=payload[3:19]))
    block, addr, expiry = struct.unpack(">III", payload[19:31])
    url = payload[31:].decode() if kind == "c" else None
    return kind, job, block, addr, expiry, url
