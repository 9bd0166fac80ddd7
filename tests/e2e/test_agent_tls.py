"""The agent over HTTPS with a private CA: trusted with TETHER_CA_BUNDLE, refused (clearly) without it."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.bench.harness import manage
from tests.e2e.agent_support import AGENT_DATABASE_URL, FINAL, Server, agent, agent_env, fresh_database, write_flows
from tests.support.processes import REPO_ROOT, free_port, stop, uvicorn_args

pytestmark = pytest.mark.e2e


def _certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA, and a certificate it signs for 127.0.0.1/localhost: (ca.pem, cert.pem, key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Tether test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = (directory / "ca.pem", directory / "server.pem", directory / "server.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path]]:
    tmp = tmp_path_factory.mktemp("tls")
    ca, cert, key = _certificates(tmp)
    env = fresh_database(AGENT_DATABASE_URL + "_tls")
    keys = json.loads(
        manage(
            "bootstrap",
            *("--org", "acme", "--workspace", "prod", "--email", "tls@acme.test", "--password", "tls-pass-0123"),
            "--json",
            env=env,
        )
    )
    port = free_port()
    args = [*uvicorn_args(port), "--ssl-keyfile", str(key), "--ssl-certfile", str(cert)]
    log_path = tmp / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(args, cwd=REPO_ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    url = f"https://127.0.0.1:{port}"
    trust = ssl.create_default_context(cafile=ca)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/readyz", verify=trust, timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise AssertionError(log_path.read_text()) from None
                time.sleep(0.2)
        api_url = f"{url}/api/v1/orgs/acme/workspaces/prod"
        headers = {"Authorization": f"Bearer {keys['api_key']}"}
        with httpx.Client(base_url=api_url + "/", headers=headers, timeout=30, verify=trust) as http:
            yield Server(url, api_url, keys["api_key"], keys["agent_key"], env, log_path, http), ca
    finally:
        stop(process)


def test_agent_runs_over_https_with_a_custom_ca(tls_server: tuple[Server, Path], tmp_path: Path) -> None:
    server, ca = tls_server
    deployment = server.deployment("tls-pool", write_flows(tmp_path / "flows"))
    out = tmp_path / "out"
    out.mkdir()
    env = agent_env(server, TETHER_CA_BUNDLE=str(ca))
    with agent(server, "tls-pool", tmp_path, env=env) as running:
        run_id = server.create_run(deployment, out=str(out), key="tls")
        run = server.wait_for(run_id, FINAL, timeout=30)
        assert "Control channel open" in running.log()  # wss:// with the same CA
    assert run["state_type"] == "COMPLETED", running.log()


def test_agent_refuses_an_untrusted_certificate(tls_server: tuple[Server, Path], tmp_path: Path) -> None:
    server, _ = tls_server
    result = subprocess.run(
        [sys.executable, "-m", "tether", "agent", "start", "--pool", "tls-pool", "--work-dir", str(tmp_path)],
        env=agent_env(server),
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "TLS certificate is not trusted" in result.stderr
    assert "TETHER_CA_BUNDLE" in result.stderr


def test_doctor_with_and_without_the_ca(tls_server: tuple[Server, Path], tmp_path: Path) -> None:
    server, ca = tls_server
    command = [sys.executable, "-m", "tether", "agent", "check"]
    good = subprocess.run(
        command, env=agent_env(server, TETHER_CA_BUNDLE=str(ca)), capture_output=True, text=True, timeout=60
    )
    assert good.returncode == 0, good.stdout + good.stderr
    lines = good.stdout.splitlines()
    for name in ("dns", "proxy", "tcp", "tls", "key", "clock", "websocket"):
        assert any(line.startswith("ok") and f" {name} " in line for line in lines), good.stdout
    assert "role 'worker'" in good.stdout
    assert server.agent_key not in good.stdout

    bad = subprocess.run(command, env=agent_env(server), capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert any(line.startswith("FAIL") and " tls " in line for line in bad.stdout.splitlines()), bad.stdout
