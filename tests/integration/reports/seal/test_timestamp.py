"""RFC 3161 timestamps (sign --timestamp-url, verify --tsa-cert) against a local test TSA: the OpenSSL CLI's
`openssl ts -reply` behind a tiny HTTP server on 127.0.0.1, with a CA and a TSA certificate made here."""

from __future__ import annotations

import base64
import datetime as dt
import http.server
import json
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from benchseal import bundle as layout
from benchseal.errors import ExitCode
from tests.helpers.sign_support import PASSPHRASE, new_keys, verifiable_bundle

pytest.importorskip("rfc3161_client", reason="needs the timestamp extra (rfc3161-client)")

_TS_CNF = """
[ tsa ]
default_tsa = tsa_config1
[ tsa_config1 ]
dir = {dir}
serial = $dir/tsaserial
crypto_device = builtin
signer_cert = $dir/tsa.crt
certs = $dir/tsa.crt
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _openssl_ts_available() -> bool:
    if shutil.which("openssl") is None:
        return False
    return subprocess.run(["openssl", "ts", "-help"], capture_output=True).returncode in (0, 1)


pytestmark = pytest.mark.skipif(not _openssl_ts_available(), reason="the local test TSA needs the openssl CLI with `ts`")


def _certs(d: Path, name: str = "benchseal test") -> None:
    """A self-signed CA and a TSA certificate it issued (critical EKU id-kp-timeStamping, RFC 3161 §2.3)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.timezone.utc)
    ca_key, tsa_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} root")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    tsa = (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} TSA")]))
           .issuer_name(ca_name).public_key(tsa_key.public_key()).serial_number(2)
           .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
           .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
           .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (d / "ca.crt").write_bytes(ca.public_bytes(pem))
    (d / "tsa.crt").write_bytes(tsa.public_bytes(pem))
    (d / "tsa.key").write_bytes(tsa_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (d / "chain.pem").write_bytes(tsa.public_bytes(pem) + ca.public_bytes(pem))
    (d / "tsaserial").write_text("01\n")
    (d / "ts.cnf").write_text(_TS_CNF.format(dir=d))


@pytest.fixture
def tsa(tmp_path):
    """(url, chain.pem) of a local RFC 3161 TSA: each POSTed TimeStampReq is answered by `openssl ts -reply`."""
    d = tmp_path / "tsa"
    d.mkdir()
    _certs(d)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            query = self.rfile.read(int(self.headers["Content-Length"]))
            res = subprocess.run(["openssl", "ts", "-reply", "-config", str(d / "ts.cnf"), "-queryfile", "/dev/stdin",
                                  "-out", "/dev/stdout"], input=query, capture_output=True, timeout=30)
            self.send_response(200 if res.returncode == 0 else 500)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(res.stdout)))
            self.end_headers()
            self.wfile.write(res.stdout)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/tsr", d / "chain.pem"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch):
    monkeypatch.setenv("BENCHSEAL_KEY_PASSPHRASE", PASSPHRASE)


def _checks(out: str) -> dict:
    return {c["name"]: c for c in json.loads(out)["checks"]}


def test_timestamped_signature_verifies_offline_with_the_tsa_chain(run_cli, tmp_path, tsa):
    url, chain = tsa
    keys = new_keys(tmp_path / "k", "sm2")
    bundle = verifiable_bundle(tmp_path / "bundle")
    code, _, err = run_cli("sign", bundle, "--key", keys.private_key_path, "--timestamp-url", url)
    assert code == 0, err
    env = json.loads((bundle / layout.STATEMENT_DSSE).read_text())
    ext = env["signatures"][0]["extension"]["ext"]
    assert ext["signer_id"] == "1234567812345678" and ext["rfc3161_timestamp"]
    code, out, _ = run_cli("verify", bundle, "--key", keys.public_key_path, "--tsa-cert", chain, "--json")
    checks = _checks(out)
    assert code == 0, [c for c in checks.values() if not c["ok"]]
    assert checks["timestamp[0]"]["outcome"] == "PASS" and "timestamped at" in checks["timestamp[0]"]["detail"]
    # without --tsa-cert the timestamp is reported, not trusted, and never needed
    code, out, _ = run_cli("verify", bundle, "--key", keys.public_key_path, "--json")
    assert code == 0 and _checks(out)["timestamp"]["outcome"] == "SKIP"
    # the same token checked by OpenSSL alone (docs/verification.md)
    (tmp_path / "tsr.der").write_bytes(base64.b64decode(ext["rfc3161_timestamp"]))
    (tmp_path / "sig.bin").write_bytes(base64.b64decode(env["signatures"][0]["sig"]))
    res = subprocess.run(["openssl", "ts", "-verify", "-in", tmp_path / "tsr.der", "-data", tmp_path / "sig.bin",
                          "-CAfile", chain], capture_output=True, text=True)
    assert res.returncode == 0 and "Verification: OK" in res.stdout, res.stdout + res.stderr


def test_a_timestamp_from_another_tsa_or_none_fails_when_one_is_required(run_cli, tmp_path, tsa):
    url, _ = tsa
    other = tmp_path / "other"
    other.mkdir()
    _certs(other, "another")
    keys = new_keys(tmp_path / "k")
    bundle = verifiable_bundle(tmp_path / "bundle")
    assert run_cli("sign", bundle, "--key", keys.private_key_path, "--timestamp-url", url)[0] == 0
    code, out, _ = run_cli("verify", bundle, "--key", keys.public_key_path, "--tsa-cert", other / "chain.pem", "--json")
    assert code == ExitCode.FAILED and "does not verify" in _checks(out)["timestamp[0]"]["detail"]
    assert run_cli("sign", bundle, "--key", keys.private_key_path)[0] == 0  # re-signed without a timestamp
    code, out, _ = run_cli("verify", bundle, "--key", keys.public_key_path, "--tsa-cert", other / "chain.pem", "--json")
    assert code == ExitCode.FAILED and "no RFC 3161 timestamp" in _checks(out)["timestamp[0]"]["detail"]


def test_an_unreachable_tsa_writes_nothing(run_cli, tmp_path):
    keys = new_keys(tmp_path / "k")
    bundle = verifiable_bundle(tmp_path / "bundle")
    code, _, err = run_cli("sign", bundle, "--key", keys.private_key_path, "--timestamp-url", "http://127.0.0.1:9/tsr")
    assert code == ExitCode.ENVIRONMENT and "timestamp authority" in err
    assert not (bundle / layout.STATEMENT_DSSE).exists()
    code, _, err = run_cli("sign", bundle, "--key", keys.private_key_path, "--timestamp-url", "ftp://x/")
    assert code == ExitCode.BAD_INPUT
