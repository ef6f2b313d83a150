"""``rantai tls``: a local certificate authority and a server certificate for
this machine's LAN address(es) and localhost.

A phone's camera and service workers work only in a secure context, so the
staff app must be served over HTTPS even on a puskesmas LAN with no domain
name and no internet. The CA is made once and kept (a phone trusts it once);
the server certificate is remade whenever the machine's addresses change.
Chrome refuses server certificates valid for more than 398 days, so ours last
397; the CA lasts ten years.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import typer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from interfaces.cli.terminal import console

DEFAULT_FOLDER = Path("var") / "tls"
CA_DAYS = 3650
SERVER_DAYS = 397  # Chrome's limit for a server certificate is 398 days
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Issued:
    """Where ``issue`` wrote each file."""

    ca_pem: Path  # the CA certificate to serve the phones (PEM)
    ca_der: Path  # the same in DER (``.crt``): what Android's "Install a certificate" lists
    cert: Path  # the server certificate followed by the CA's (the chain uvicorn sends)
    key: Path  # the server's private key (mode 600)
    names: tuple[str, ...]  # the SAN entries


def lan_addresses() -> list[Address]:
    """This machine's addresses a phone on the same network can reach: the
    source address of the default route (found without sending anything) and
    what the host name resolves to, loopback excluded."""
    found: list[Address] = []
    for family, probe in ((socket.AF_INET, "10.255.255.255"), (socket.AF_INET6, "fd00::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((probe, 1))  # UDP: chooses a route, sends nothing
                found.append(ipaddress.ip_address(s.getsockname()[0]))
        except OSError:
            pass
    try:
        for *_, sockaddr in socket.getaddrinfo(socket.gethostname(), None):
            found.append(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]))
    except OSError:
        pass
    unique = []
    for address in found:
        if not (address.is_loopback or address.is_link_local or address.is_unspecified) and address not in unique:
            unique.append(address)
    return unique


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def make_authority(key: ec.EllipticCurvePrivateKey, name: str, now: datetime) -> x509.Certificate:
    """A self-signed CA that may sign server certificates only (path length 0)."""
    subject = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Rantai"),
                         x509.NameAttribute(NameOID.COMMON_NAME, name)])
    return (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )


def make_server_certificate(ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate,
                            key: ec.EllipticCurvePrivateKey, hosts: list[str], addresses: list[Address],
                            now: datetime) -> x509.Certificate:
    """A server certificate signed by ``ca`` for ``hosts`` (DNS names) and ``addresses`` (IPs)."""
    sans: list[x509.GeneralName] = [x509.DNSName(h) for h in hosts]
    sans += [x509.IPAddress(a) for a in addresses]
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0] if hosts else str(addresses[0]))]))
        .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )


def issue(folder: Path, addresses: list[Address], hosts: list[str] | None = None,
          now: datetime | None = None) -> Issued:
    """Write a server certificate for ``addresses`` + localhost into ``folder``,
    signed by the CA found there (made first if there is none)."""
    now = now or datetime.now(UTC)
    folder.mkdir(parents=True, exist_ok=True)
    ca_key_file, ca_pem = folder / "ca-key.pem", folder / "rantai-ca.pem"
    if ca_key_file.exists() and ca_pem.exists():
        ca_key = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
        ca = x509.load_pem_x509_certificate(ca_pem.read_bytes())
    else:
        ca_key = new_key()
        ca = make_authority(ca_key, f"Rantai local CA ({socket.gethostname()})", now)
        write_private(ca_key_file, ca_key)
        ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        msg = f"{ca_key_file} is not the key rantai tls writes: move the folder aside and run rantai tls again."
        raise TypeError(msg)
    ca_der = folder / "rantai-ca.crt"
    ca_der.write_bytes(ca.public_bytes(serialization.Encoding.DER))
    hosts = hosts if hosts is not None else ["localhost"]
    everywhere = [*addresses, *(a for a in (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))
                                if a not in addresses)]
    key = new_key()
    cert = make_server_certificate(ca_key, ca, key, hosts, everywhere, now)
    cert_file, key_file = folder / "server.pem", folder / "server-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(serialization.Encoding.PEM))
    write_private(key_file, key)
    return Issued(ca_pem, ca_der, cert_file, key_file, (*hosts, *map(str, everywhere)))


def write_private(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def tls(
    folder: Path = typer.Option(DEFAULT_FOLDER, "--dir", help="Where the CA and the certificate are kept"),
    address: list[str] = typer.Option(None, "--address",  # noqa: B008 (typer's way)
                                      help="An address phones use (repeat); default: this machine's LAN addresses"),
    host: list[str] = typer.Option(None, "--host", help="A DNS name to include besides localhost (repeat)"),  # noqa: B008
) -> None:
    """Make a local certificate authority (once) and a certificate for this machine's LAN address."""
    try:
        chosen = [ipaddress.ip_address(a) for a in address] if address else lan_addresses()
    except ValueError:
        console.print("[red]--address must be an IP address such as 192.168.1.20.[/red]")
        raise typer.Exit(2) from None
    issued = issue(folder, chosen, ["localhost", *(host or [])])
    console.print(f"Certificate for {', '.join(issued.names)}")
    console.print(f"  certificate {issued.cert}\n  key         {issued.key}")
    console.print(f"Serve it:  rantai serve --host 0.0.0.0 --port 8443 --certfile {issued.cert} --keyfile {issued.key}")
    console.print(f"Phones trust it once they install the CA certificate {issued.ca_der} "
                  "(Android: Settings → Security → Encryption & credentials → Install a certificate → CA certificate).")
