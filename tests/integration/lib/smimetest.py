"""smimetest - S/MIME helpers for the message-signing cases (38x): a test CA
and signer certificates made with the openssl command line (an expired one
with the cryptography package, which can backdate), verification with
`openssl cms -verify`, accounts with Message Signing enabled."""
import datetime
import os
import subprocess
import tempfile

from txtest import *

WORK = tempfile.mkdtemp(prefix="smime-", dir=E.get("TXMAIL_STACK_DIR", "/tmp"))


def openssl(*args, check_rc=True, stdin=None):
    p = subprocess.run(["openssl"] + list(args), capture_output=True, input=stdin, timeout=60)
    if check_rc and p.returncode != 0:
        fail("openssl %s failed: %s" % (" ".join(args), p.stderr.decode(errors="replace")))
    return p


def path(name):
    return os.path.join(WORK, name)


def make_ca(name="ca"):
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=txmail test CA " + name,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout", path(name + ".key"), "-out", path(name + ".pem"))
    return path(name + ".pem")


def make_cert(name, address, ca="ca", san=True, key="rsa:2048"):
    """A signer certificate for address issued by ca; returns (cert, key) paths."""
    k, csr, ext, crt = (path(name + s) for s in (".key", ".csr", ".ext", ".pem"))
    subj = "/CN=%s" % name + ("" if san else "/emailAddress=%s" % address)
    args = ["req", "-new", "-nodes", "-subj", subj, "-keyout", k, "-out", csr]
    if key.startswith("ec"):
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", k)
        args = ["req", "-new", "-key", k, "-subj", subj, "-out", csr]
    else:
        args[2:2] = ["-newkey", key]
    openssl(*args)
    with open(ext, "w") as f:
        if san:
            f.write("subjectAltName=email:%s\n" % address)
        f.write("keyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\n")
    openssl("x509", "-req", "-in", csr, "-CA", path(ca + ".pem"), "-CAkey", path(ca + ".key"),
            "-CAcreateserial", "-days", "30", "-extfile", ext, "-out", crt)
    return crt, k


def make_expired(name, address, ca="ca"):
    """A certificate for address whose validity ended yesterday (cryptography: openssl 3.0 cannot backdate)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID, ExtendedKeyUsageOID
    with open(path(ca + ".key"), "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), None)
    with open(path(ca + ".pem"), "rb") as f:
        ca_cert = x509.load_pem_x509_certificate(f.read())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=30)).not_valid_after(now - datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(address)]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    crt, k = path(name + ".pem"), path(name + ".key")
    with open(crt, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(k, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return crt, k


def signing_account(relay_host=None, **features):
    f = {"messageSigning": True}
    f.update(features)
    acct = new_account(settings={"features": f})
    if relay_host:
        dom = uniq("relay") + ".test"
        ctl("domain", "add", acct["name"], dom, "--relay-host", relay_host)
        acct["relay_domain"] = dom
    return acct


def cms_verify(raw, ca_pem, name="msg"):
    """openssl cms -verify of a multipart/signed message: (ok, content bytes, signer PEM text)."""
    m, out, signer = path(name + ".eml"), path(name + ".out"), path(name + ".signer")
    for p_ in (out, signer):
        if os.path.exists(p_):
            os.unlink(p_)
    with open(m, "wb") as f:
        f.write(raw)
    p = openssl("cms", "-verify", "-in", m, "-CAfile", ca_pem, "-out", out, "-signer", signer,
                "-purpose", "smimesign", check_rc=False)
    content = open(out, "rb").read() if p.returncode == 0 and os.path.exists(out) else b""
    spem = open(signer).read() if p.returncode == 0 and os.path.exists(signer) else ""
    return p.returncode == 0, content, spem


def fingerprint(pem_path_or_text):
    text = pem_path_or_text
    if os.path.exists(pem_path_or_text):
        text = open(pem_path_or_text).read()
    p = openssl("x509", "-noout", "-fingerprint", "-sha256", stdin=text.encode())
    return p.stdout.decode().strip().split("=", 1)[1]
