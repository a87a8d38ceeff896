"""Real servers from Debian's packages for the deployment tests: redis-server listening only with TLS (as
Heroku's Key-Value Store does, with a self-signed certificate) and a plain PostgreSQL cluster.

They are started on free loopback ports in a directory of the caller's, reached only by URL, and stopped
when the `with` block ends. `.ci/run` installs the packages (redis-server, postgresql); without them the tests
fail naming the package to install.
"""
from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

POSTGRES_BIN_DIRS = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)


def require(program: str, package: str) -> str:
    """The path of program. A test needing a missing Debian package fails naming it (`.ci/run` installs it)
    rather than skip and count as if it had run."""
    found = shutil.which(program) or next(
        (str(d / program) for d in POSTGRES_BIN_DIRS if (d / program).exists()),
        None)
    if found:
        return found
    pytest.fail(f"{program} not found: apt-get install -y {package} (as .ci/run does)")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (every test helper's one way to pick one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")
        time.sleep(0.05)


def self_signed_certificate(directory: Path, *, hostname: str = "redis.example.internal") -> tuple[Path,
                                                                                                   Path]:
    """A self-signed certificate (and its key) for a name that is not 127.0.0.1, as Heroku's Redis has:
    neither the issuer nor the host name can be verified by a client."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(minutes=5))
                   .not_valid_after(now + datetime.timedelta(days=2))
                   .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname),
                                                               x509.IPAddress(
                                                                   ipaddress.ip_address("10.0.0.1"))]),
                                  critical=False)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "redis.crt", directory / "redis.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


@contextlib.contextmanager
def tls_redis(directory: Path) -> Iterator[str]:
    """redis-server with TLS only (plain port closed), a password, no persistence;
    yields its rediss:// URL."""
    server = require("redis-server", "redis-server")
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = self_signed_certificate(directory)
    port, password = free_port(), secrets.token_hex(16)
    process = subprocess.Popen(
        [server, "--port", "0", "--tls-port", str(port), "--bind", "127.0.0.1", "--tls-cert-file", str(cert),
         "--tls-key-file", str(key), "--tls-auth-clients", "no", "--requirepass", password, "--save", "",
         "--appendonly", "no", "--dir", str(directory), "--logfile", str(directory / "redis.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield f"rediss://:{password}@127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _as_postgres_user() -> dict[str, int]:
    """subprocess options that run a command as the postgres user when we are root
    (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return {}
    import pwd
    owner = pwd.getpwnam("postgres")
    return {"user": owner.pw_uid, "group": owner.pw_gid}


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A fresh PostgreSQL cluster on a loopback port with password authentication; yields its URL.

    Its directory is a new one under the system's temporary directory (the postgres user must be able to
    reach it, which pytest's private tmp_path does not allow), removed afterwards."""
    initdb, pg_ctl = require("initdb", "postgresql"), require("pg_ctl", "postgresql")
    as_postgres = _as_postgres_user()
    directory = Path(tempfile.mkdtemp(prefix="genvid-postgres-"))
    password = secrets.token_hex(16)
    password_file = directory / "password"
    password_file.write_text(password)
    if as_postgres:
        for path in (directory, password_file):
            os.chown(path, as_postgres["user"], as_postgres["group"])
    try:
        subprocess.run([initdb, "-D", str(directory / "data"), "-U", "genvid", "--auth=scram-sha-256",
                        f"--pwfile={password_file}", "-E", "UTF8"], check=True, capture_output=True,
                       timeout=120, **as_postgres)
        port = free_port()
        subprocess.run([pg_ctl, "-D", str(directory / "data"), "-l", str(directory / "postgres.log"), "-w",
                        "-t", "60", "-o", f"-p {port} -h 127.0.0.1 -k {directory}", "start"], check=True,
                       capture_output=True, timeout=120, **as_postgres)
        try:
            yield f"postgresql://genvid:{password}@127.0.0.1:{port}/postgres"
        finally:
            subprocess.run([pg_ctl, "-D", str(directory / "data"), "-m", "fast", "-w", "stop"],
                           capture_output=True, timeout=120, check=False, **as_postgres)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
