"""Outbound requests to user-given URLs: the address policy (embedded IPv4 forms included), one
resolution per connection and a connection to the checked address, Host/SNI kept as the name,
no redirects followed."""

from __future__ import annotations

import asyncio
import datetime as dt
import ipaddress
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.services import outbound


@pytest.mark.parametrize("ip,ok", [
    ("8.8.8.8", True),
    ("2606:4700:4700::1111", True),
    ("2002:0808:0808::1", True),            # 6to4 of a public address
    ("64:ff9b::808:808", True),              # NAT64 of a public address
    ("::ffff:8.8.8.8", True),
    ("127.0.0.1", False),
    ("10.1.2.3", False),
    ("169.254.169.254", False),
    ("100.64.0.1", False),
    ("::1", False),
    ("::ffff:192.168.1.1", False),
    ("::127.0.0.1", False),                  # IPv4-compatible
    ("2002:7f00:1::", False),               # 6to4 embedding 127.0.0.1
    ("2002:c0a8:0101::1", False),           # 6to4 embedding 192.168.1.1
    ("2002:a9fe:a9fe::", False),            # 6to4 embedding 169.254.169.254
    ("64:ff9b::7f00:1", False),              # NAT64 embedding 127.0.0.1
    ("64:ff9b::a00:1", False),               # NAT64 embedding 10.0.0.1
    ("64:ff9b:1::a00:1", False),             # local-use NAT64
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", False),  # Teredo, client 127.0.0.1
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo: tunnels are refused as a whole
    ("ff02::1", False),
    ("0.0.0.0", False),
])
def test_address_policy(ip, ok):
    assert outbound.address_allowed(ip, allow_private=False) is ok


def test_teredo_client_is_decoded():
    addr = ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:80ff:fffe")
    assert ipaddress.IPv4Address("127.0.0.1") in outbound.addresses.embedded_ipv4(addr)


def test_private_allowed_still_refuses_multicast():
    assert outbound.address_allowed("10.0.0.1", allow_private=True)
    assert outbound.address_allowed("2002:7f00:1::", allow_private=True)
    assert not outbound.address_allowed("224.0.0.1", allow_private=True)


@pytest.mark.parametrize("url", ["ftp://example.org/x", "http://user:pw@example.org/",
                                 "http:///nohost", "http://example.org:99999/"])
def test_urls_that_are_not_targets(url):
    with pytest.raises(outbound.TargetRefused):
        outbound.check_url(url)


def _server(handler_status=204, location=None):
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append({"host": self.headers["Host"], "path": self.path})
            self.send_response(handler_status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, seen


def _resolver(answers: dict[str, list[list[str]]], calls: list[str]):
    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        seq = answers[host]
        return seq.pop(0) if len(seq) > 1 else seq[0]
    return resolve


async def test_the_connection_goes_to_the_checked_address_with_the_name_as_host():
    server, seen = _server()
    calls: list[str] = []
    resolver = _resolver({"hook.example": [["127.0.0.1"]]}, calls)
    async with outbound.pinned_client(allow_private=lambda: True, resolver=resolver) as c:
        r = await c.post(f"http://hook.example:{server.server_port}/h", content=b"{}")
    server.shutdown()
    assert r.status_code == 204
    assert seen == [{"host": f"hook.example:{server.server_port}", "path": "/h"}]
    assert calls == ["hook.example"]  # resolved once, for the connection it checked


async def test_a_rebinding_answer_at_connect_time_is_refused():
    """The subscription check saw a public address; at delivery the name answers 127.0.0.1:
    the pinned client checks what it connects to, so nothing reaches the private host."""
    server, seen = _server()
    calls: list[str] = []
    resolver = _resolver({"hook.example": [["127.0.0.1"]]}, calls)
    async with outbound.pinned_client(allow_private=lambda: False, resolver=resolver) as c:
        with pytest.raises(httpx.ConnectError, match="refused: .*127.0.0.1"):
            await c.post(f"http://hook.example:{server.server_port}/h", content=b"{}")
    server.shutdown()
    assert seen == []


async def test_a_name_with_one_private_address_is_refused_whole():
    resolver = _resolver({"mixed.example": [["8.8.8.8", "10.0.0.1"]]}, [])
    with pytest.raises(outbound.TargetRefused, match="10.0.0.1"):
        await outbound.resolve_checked("mixed.example", 80, False, resolver)


async def test_ip_literals_are_checked_too():
    async with outbound.pinned_client(allow_private=lambda: False) as c:
        for url in ("http://127.0.0.1:9/h", "http://[2002:7f00:1::]:9/h", "http://[::1]:9/h"):
            with pytest.raises(httpx.ConnectError, match="refused"):
                await c.post(url, content=b"{}")


async def test_redirects_are_not_followed():
    server, seen = _server(302, location="http://127.0.0.1:9/internal")
    resolver = _resolver({"hook.example": [["127.0.0.1"]]}, [])
    async with outbound.pinned_client(allow_private=lambda: True, resolver=resolver) as c:
        r = await c.post(f"http://hook.example:{server.server_port}/h", content=b"{}")
    server.shutdown()
    assert r.status_code == 302 and len(seen) == 1


def _self_signed(name: str) -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


async def test_https_sends_the_name_as_sni_and_verifies_the_certificate_against_it(tmp_path):
    cert_pem, key_pem = _self_signed("hook.example")
    (tmp_path / "c.pem").write_bytes(cert_pem)
    (tmp_path / "k.pem").write_bytes(key_pem)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    sni: list[str | None] = []
    server_ctx.sni_callback = lambda sock, name, ctx: sni.append(name)
    hosts: list[str] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        hosts.extend(line.split(":", 1)[1].strip() for line in head.split("\r\n")
                     if line.lower().startswith("host:"))
        writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=server_ctx)
    port = server.sockets[0].getsockname()[1]
    client_ctx = ssl.create_default_context(cadata=cert_pem.decode())
    resolver = _resolver({"hook.example": [["127.0.0.1"]]}, [])
    try:
        async with outbound.pinned_client(allow_private=lambda: True, resolver=resolver,
                                          ssl_context=client_ctx) as c:
            r = await c.post(f"https://hook.example:{port}/h", content=b"{}")
        assert r.status_code == 204
        assert sni == ["hook.example"] and hosts == [f"hook.example:{port}"]
        # the same certificate does not pass for another name pinned to the same address
        other = _resolver({"other.example": [["127.0.0.1"]]}, [])
        async with outbound.pinned_client(allow_private=lambda: True, resolver=other,
                                          ssl_context=client_ctx) as c:
            with pytest.raises(httpx.ConnectError):
                await c.post(f"https://other.example:{port}/h", content=b"{}")
    finally:
        server.close()
        await server.wait_closed()
