"""Which network addresses a fetch on a chat user's behalf may reach: public ones only, unless allowed.

A host is resolved once and every address it resolves to is checked; the connection then goes to
a checked address, so a second DNS answer (rebinding) never decides where kbot connects.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# host, port -> the addresses it resolves to (getaddrinfo's order)
Resolver = Callable[[str, int], list[str]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix: the low 32 bits are an IPv4 address
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class BlockedAddress(Exception):
    """The host is, or resolves to, an address kbot may not fetch for a chat user."""

    def __init__(self, host: str, address: str, why: str) -> None:
        shown = host if host == address else f"{host} ({address})"
        super().__init__(f"{shown} is on a private or local network ({why}); kbot only fetches public pages")
        self.host = host


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64), if any."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def why_internal(address: IPAddress) -> str | None:
    """Why an address is not a public one, or None when it is."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        reason = why_internal(inner)
        return f"{reason} (inside an IPv6 address)" if reason else None
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if isinstance(address, ipaddress.IPv4Address) and address in _CGNAT:
        return "a carrier-grade NAT address"
    if address.is_private:
        return "on a private network"
    if address.is_reserved or not address.is_global:
        return "a reserved address"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Public addresses only, except hosts and networks an admin listed (an intranet wiki, say)."""

    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[IPNetwork, ...] = ()
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def from_allowlist(cls, entries: Iterable[str], *, allow_private: bool = False,
                       resolver: Resolver = system_resolver) -> AddressPolicy:
        """Entries are host names or networks (`wiki.internal`, `10.2.0.0/16`, `192.0.2.7`)."""
        hosts: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                hosts.add(entry.strip().lower().rstrip("."))
        return cls(allow_private, frozenset(hosts), tuple(networks), resolver)

    def _permitted(self, host: str, address: IPAddress) -> str | None:
        if self.allow_private or host.lower().rstrip(".") in self.allowed_hosts:
            return None
        if any(address in network for network in self.allowed_networks if network.version == address.version):
            return None
        return why_internal(address)

    def resolve(self, host: str, port: int) -> list[str]:
        """The addresses to connect to for `host`; BlockedAddress if any of them is internal.

        Every answer must pass, not only the first: a name that resolves to a public and a private
        address is refused, since a client could reach either.
        """
        literal = host.strip("[]")
        try:
            addresses = [str(ipaddress.ip_address(literal))]
        except ValueError:
            addresses = self.resolver(literal, port)
        for text in addresses:
            reason = self._permitted(literal, ipaddress.ip_address(text.split("%", 1)[0]))
            if reason is not None:
                raise BlockedAddress(literal, text, reason)
        return addresses

    def check_host(self, host: str) -> str | None:
        """A refusal for `host` worded for a chat reply, or None when it may be fetched."""
        try:
            self.resolve(host, 443)
        except BlockedAddress as exc:
            return str(exc)
        except OSError:
            return None  # unresolvable: the fetch itself will say so
        return None


OPEN_POLICY = AddressPolicy(allow_private=True)
