"""``rantai tls`` and ``rantai serve --certfile/--keyfile``: the certificate
chains to the local CA, names the LAN address, and uvicorn serves HTTPS with
it to a client that trusts only that CA."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID
from typer.testing import CliRunner

from interfaces.cli import main as cli
from interfaces.cli.tls import SERVER_DAYS, issue

LAN = ipaddress.ip_address("192.168.1.20")


def chain(path: Path) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(path.read_bytes())


def test_server_certificate_chains_to_the_local_ca_and_names_the_lan_address(tmp_path: Path) -> None:
    issued = issue(tmp_path, [LAN])
    server, sent_ca = chain(issued.cert)
    ca = x509.load_pem_x509_certificate(issued.ca_pem.read_bytes())
    assert sent_ca == ca
    server.verify_directly_issued_by(ca)  # raises when the signature or issuer does not match
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert LAN in sans.get_values_for_type(x509.IPAddress)
    assert ipaddress.ip_address("127.0.0.1") in sans.get_values_for_type(x509.IPAddress)
    assert sans.get_values_for_type(x509.DNSName) == ["localhost"]
    assert ExtendedKeyUsageOID.SERVER_AUTH in server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert (server.not_valid_after_utc - server.not_valid_before_utc).days <= SERVER_DAYS + 1  # Chrome: ≤ 398
    assert x509.load_der_x509_certificate(issued.ca_der.read_bytes()) == ca  # the .crt Android installs
    assert stat.S_IMODE(issued.key.stat().st_mode) == 0o600


def test_a_second_run_keeps_the_ca_so_phones_need_not_trust_a_new_one(tmp_path: Path) -> None:
    first = issue(tmp_path, [LAN])
    ca_before = first.ca_pem.read_bytes()
    server_before = chain(first.cert)[0]
    second = issue(tmp_path, [ipaddress.ip_address("10.0.0.7")])
    assert second.ca_pem.read_bytes() == ca_before
    server_after = chain(second.cert)[0]
    assert server_after != server_before
    server_after.verify_directly_issued_by(x509.load_pem_x509_certificate(ca_before))


def test_rantai_tls_command_writes_the_files_for_the_given_address(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli.app, ["tls", "--dir", str(tmp_path), "--address", "192.168.1.20"])
    assert result.exit_code == 0, result.output
    assert "192.168.1.20" in result.output and "rantai-ca.crt" in result.output
    assert {p.name for p in tmp_path.iterdir()} >= {"rantai-ca.pem", "rantai-ca.crt", "server.pem", "server-key.pem"}
    refused = CliRunner().invoke(cli.app, ["tls", "--dir", str(tmp_path), "--address", "puskesmas"])
    assert refused.exit_code == 2 and "IP address" in refused.output


async def hello(scope, receive, send) -> None:  # noqa: ANN001 (a bare ASGI app)
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"aman"})


@pytest.fixture
def https_server(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    issued = issue(tmp_path, [LAN])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(hello, host="127.0.0.1", port=port, log_level="warning",
                                           ssl_certfile=str(issued.cert), ssl_keyfile=str(issued.key)))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        time.sleep(0.05)
    yield port, issued.ca_pem
    server.should_exit = True
    thread.join(10)


def test_uvicorn_serves_https_to_a_client_trusting_only_the_local_ca(https_server: tuple[int, Path]) -> None:
    port, ca = https_server
    trusting = ssl.create_default_context(cafile=str(ca))  # the host name is checked against the SAN
    answer = httpx.get(f"https://127.0.0.1:{port}/", verify=trusting)
    assert (answer.status_code, answer.text) == (200, "aman")
    stranger = ssl.create_default_context()  # the system's CAs do not know ours
    with socket.create_connection(("127.0.0.1", port)) as raw, pytest.raises(ssl.SSLCertVerificationError):
        stranger.wrap_socket(raw, server_hostname="127.0.0.1")


def test_serve_passes_the_certificate_to_uvicorn_and_marks_cookies_secure(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    issued = issue(tmp_path, [LAN])
    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))
    # (set first, so that the teardown puts back what was there before: serve sets it in os.environ itself)
    monkeypatch.setenv("RANTAI_SECURE_COOKIES", "false")
    monkeypatch.setenv("RANTAI_TLS_CERT", str(issued.cert))
    monkeypatch.setenv("RANTAI_TLS_KEY", str(issued.key))
    cli.default_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["serve", "--port", "8443"])
        assert result.exit_code == 0, result.output
        assert "https://127.0.0.1:8443/" in result.output
        assert (seen["ssl_certfile"], seen["ssl_keyfile"]) == (str(issued.cert), str(issued.key))
        assert cli.default_settings().secure_cookies is True
        monkeypatch.delenv("RANTAI_TLS_KEY")
        cli.default_settings.cache_clear()
        half = CliRunner().invoke(cli.app, ["serve"])
        assert half.exit_code == 2 and "both" in half.output
    finally:
        cli.default_settings.cache_clear()
