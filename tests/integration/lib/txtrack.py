"""txtrack - tracking tokens of contract §15.5, computed independently of
the C implementation (tests and benchmarks mint their own tokens with the
stack's tracking key)."""
import base64
import hashlib
import hmac
import os
import struct
import time
import uuid


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


def token(kind, job, block=0, addr=0, expiry=None, url=None, key=None):
    """kind 'o', 'c' or 'u'; job a UUID string; url (str) for clicks."""
    kid, k = key or keys()[0]
    if expiry is None:
        expiry = int(time.time()) + 10 * 86400
    payload = bytes([1, kid, ord(kind)]) + uuid.UUID(job).bytes + struct.pack(">III", block, addr, expiry)
    if kind == "c":
        payload += url.encode()
    tag = hmac.new(k, payload, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(payload + tag).rstrip(b"=").decode()


def decode(tok, key=None):
    """(kind, job, block, addr, expiry, url) of a token; ValueError when it does not verify."""
    pad = "=" * (-len(tok) % 4)
    raw = base64.urlsafe_b64decode(tok + pad)
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode() != tok:
        raise ValueError("not canonical")
    payload, tag = raw[:-32], raw[-32:]
    ks = dict(keys()) if key is None else {key[0]: key[1]}
    if payload[0] != 1 or payload[1] not in ks:
        raise ValueError("version or key")
    if not hmac.compare_digest(hmac.new(ks[payload[1]], payload, hashlib.sha256).digest(), tag):
        raise ValueError("tag")
    kind = chr(payload[2])
    job = str(uuid.UUID(bytes=payload[3:19]))
    block, addr, expiry = struct.unpack(">III", payload[19:31])
    url = payload[31:].decode() if kind == "c" else None
    return kind, job, block, addr, expiry, url
