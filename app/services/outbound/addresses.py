"""Which addresses an outbound request may go to, and resolving a host name under that policy."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[str]]]

# IPv6 ranges that carry an IPv4 address inside: a public-looking IPv6 address can reach a
# private IPv4 host through a translator or tunnel (RFC 3056 6to4, RFC 6052/8215 NAT64, RFC 4380
# Teredo). The local-use NAT64 prefix embeds at a prefix-dependent offset: refused as a whole.
NAT64_WELL_KNOWN = ipaddress.IPv6Network("64:ff9b::/96")
NAT64_LOCAL_USE = ipaddress.IPv6Network("64:ff9b:1::/48")
IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class TargetRefused(Exception):
    """The URL or one of its host's addresses may not be called; the message says why."""


def embedded_ipv4(addr: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """Every IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64, Teredo)."""
    out: list[ipaddress.IPv4Address] = []
    if addr.ipv4_mapped is not None:
        out.append(addr.ipv4_mapped)
    if addr in IPV4_COMPATIBLE and int(addr) > 1:  # ::a.b.c.d (deprecated); not :: or ::1
        out.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    if addr.sixtofour is not None:
        out.append(addr.sixtofour)
    if addr in NAT64_WELL_KNOWN:
        out.append(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF))
    if addr.teredo is not None:
        out.extend(addr.teredo)  # (server, client); Python undoes the client's obfuscation
    return out


def refusal(ip: str, allow_private: bool) -> str | None:
    """Why `ip` may not be an outbound target (None when it may)."""
    try:
        addr: IPAddress = ipaddress.ip_address(ip.split("%", 1)[0])
    except ValueError:
        return f"{ip!r} is not an IP address"
    if addr.is_multicast or addr.is_unspecified:
        return f"{addr} is a multicast or unspecified address"
    if isinstance(addr, ipaddress.IPv6Address):
        if addr in NAT64_LOCAL_USE and not allow_private:
            return f"{addr} is a local-use NAT64 address"
        for inner in embedded_ipv4(addr):
            why = refusal(str(inner), allow_private)
            if why is not None:
                return f"{addr} embeds {inner}: {why}"
        if addr.ipv4_mapped is not None or addr in NAT64_WELL_KNOWN:
            return None  # stands for the (public) IPv4 address it carries
    if allow_private:
        return None
    if not addr.is_global or addr.is_reserved:
        return f"{addr} is a loopback, private, link-local or reserved address"
    return None


def address_allowed(ip: str, allow_private: bool) -> bool:
    return refusal(ip, allow_private) is None


def check_url(url: str) -> tuple[str, int]:
    """The URL's host and port, if it is an http(s) URL without credentials."""
    try:
        parts = urlsplit(url)
    except ValueError:  # e.g. "http://[::1/": an unclosed IPv6 literal
        raise TargetRefused("the URL is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused("the URL must be http(s)://host/...")
    if parts.username or parts.password:
        raise TargetRefused("the URL must not carry credentials")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TargetRefused("the URL's port is not a number from 0 to 65535") from None
    return parts.hostname, port


async def system_resolver(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise TargetRefused(f"host {host!r} does not resolve") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def resolve_checked(host: str, port: int, allow_private: bool,
                          resolver: Resolver = system_resolver) -> list[str]:
    """The host's addresses, resolved once; refused if any of them may not be called (a name
    that resolves to one public and one private address is refused as a whole)."""
    addresses = await resolver(host, port)
    if not addresses:
        raise TargetRefused(f"host {host!r} does not resolve")
    for ip in addresses:
        why = refusal(ip, allow_private)
        if why is not None:
            raise TargetRefused(f"host {host!r} resolves to {why}")
    return addresses
