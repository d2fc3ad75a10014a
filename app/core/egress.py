"""Egress policy for the requests Baton itself sends (agents' webhook URLs).

An agent chooses its URL, so without a policy Baton could be made to POST to services on
its own host or network (the graph server, cloud metadata, an admin port) and store their
answer as a task result. Every destination is resolved first and *every* address it resolves
to must be globally routable: loopback, private (RFC 1918, ULA), link-local (with the
169.254.169.254 metadata address), CGNAT, unspecified, multicast, reserved and documentation
ranges are refused, also when wrapped in IPv6 (``::ffff:127.0.0.1``, NAT64, 6to4). The request
then goes to the address that was checked (the host name only travels in ``Host`` and TLS
SNI), so a DNS answer that changes between check and connect (rebinding) cannot bypass it.
Odd spellings (``0x7f000001``, ``2130706433``, ``127.1``, ``[::1]``) are what the resolver
turns them into, so they are judged as the address they are.

``BATON_WEBHOOK_ALLOW_HOSTS`` lifts the policy for listed host names and CIDRs (development:
an agent on the same machine), e.g. ``["127.0.0.1", "localhost", "10.20.0.0/16"]``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass, field
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_METADATA_NAMES = {"metadata", "metadata.google.internal", "metadata.goog"}


class EgressDenied(Exception):
    """The destination is not allowed (the message is for logs, not for the agent)."""


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to ``address``, present ``host``."""

    scheme: str
    host: str
    address: str
    port: int

    def url(self, path: str) -> str:
        """The URL to send to: the checked address, not the name."""
        ip = f"[{self.address}]" if ":" in self.address else self.address
        return f"{self.scheme}://{ip}:{self.port}{path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        name = f"[{self.host}]" if ":" in self.host else self.host
        return name if self.port == default else f"{name}:{self.port}"


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, NAT64, 6to4, Teredo), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def is_public(ip: IPAddress) -> bool:
    """Globally routable unicast, and not wrapping a non-public IPv4 address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None and not is_public(inner):
            return False
    return bool(ip.is_global) and not ip.is_multicast and not ip.is_reserved


@dataclass(frozen=True)
class EgressPolicy:
    """Public addresses only, plus what the allow-list names."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, allow: list[str] | None) -> EgressPolicy:
        hosts, nets = set(), []
        for entry in allow or []:
            entry = entry.strip().lower()
            if not entry:
                continue
            try:
                nets.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(nets))

    def allows(self, ip: IPAddress) -> bool:
        return is_public(ip) or any(ip in net for net in self.networks)

    def check_url(self, url: str) -> tuple[str, str, int, str]:
        """Syntax and the literal parts (no DNS): (scheme, host, port, path) or EgressDenied."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError as exc:
            raise EgressDenied(f"malformed URL: {exc}") from exc
        if parts.scheme not in ("http", "https"):
            raise EgressDenied("only http and https")
        host = (parts.hostname or "").rstrip(".").lower()
        if not host:
            raise EgressDenied("no host")
        if parts.username is not None or parts.password is not None:
            raise EgressDenied("credentials in the URL")
        port = port or (443 if parts.scheme == "https" else 80)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        if host in self.hosts:
            return parts.scheme, host, port, path
        if host == "localhost" or host.endswith(".localhost") or host in _METADATA_NAMES:
            raise EgressDenied(f"{host} is internal")
        literal = _literal(host)
        if literal is not None and not self.allows(literal):
            raise EgressDenied(f"{host} is not a public address")
        return parts.scheme, host, port, path

    async def resolve(self, url: str) -> tuple[Target, str]:
        """Check ``url`` and pick the address to connect to; every address the name resolves
        to must be allowed (a mixed answer is refused). Returns (target, path)."""
        scheme, host, port, path = self.check_url(url)
        literal = _literal(host)
        if literal is not None:
            return Target(scheme, host, str(literal), port), path
        loop = asyncio.get_running_loop()
        try:
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise EgressDenied(f"{host} does not resolve: {exc}") from exc
        addresses = []
        for info in infos:
            ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
            addresses.append(ip)
        if not addresses:
            raise EgressDenied(f"{host} does not resolve")
        if host not in self.hosts:
            bad = [str(a) for a in addresses if not self.allows(a)]
            if bad:
                raise EgressDenied(f"{host} resolves to non-public {', '.join(bad)}")
        return Target(scheme, host, str(addresses[0]), port), path


def _literal(host: str) -> IPAddress | None:
    """The address a literal host stands for, in any spelling the C resolver accepts
    (dotted, decimal, hex, octal, short forms), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, UnicodeError, ValueError):
        return None
