"""Which network addresses and host names Reelay may fetch from: pure rules, no I/O.

``reelay.security.fetch`` asks these questions for every URL and every redirect; nothing here opens a
socket or resolves a name. The tables are written out (rather than taken from ``ipaddress.is_global``)
so the answer does not change between Python releases.

What belongs here: address classification, host-name blocklist, IP-literal parsing, the development
allowlist. What does not: URL parsing, HTTP, resolution (see ``fetch.py``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Cloud instance-metadata endpoints (AWS, ECS, GCP, Azure, Oracle, Alibaba). They are non-public anyway;
# listing them gives a clearer message and keeps a broad allowlist CIDR (say 169.254.0.0/16) from
# re-allowing them: only the exact address in the allowlist does.
METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.170.23",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "100.100.100.200",
    )
)

# Names refused before any resolution, unless the allowlist names them.
BLOCKED_HOST_NAMES: frozenset[str] = frozenset(
    {"localhost", "metadata", "metadata.google.internal", "metadata.goog", "instance-data"}
)
BLOCKED_HOST_SUFFIXES: tuple[str, ...] = (".localhost", ".internal")


def _nets(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ipaddress.ip_network(c) for c in cidrs)


# (networks, reason) in order; the first match names the reason. IANA special-purpose registries.
_IPV4_RULES: tuple[tuple[tuple[IPNetwork, ...], str], ...] = (
    (_nets("0.0.0.0/32"), "an unspecified address"),
    (_nets("127.0.0.0/8"), "a loopback address"),
    (_nets("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"), "a private address"),
    (_nets("169.254.0.0/16"), "a link-local address"),
    (_nets("100.64.0.0/10"), "a shared (carrier-grade NAT) address"),
    (_nets("224.0.0.0/4"), "a multicast address"),
    (_nets("255.255.255.255/32"), "a broadcast address"),
    (
        _nets(
            "0.0.0.0/8",  # "this network"
            "192.0.0.0/24",  # IETF protocol assignments
            "192.0.2.0/24",
            "198.51.100.0/24",
            "203.0.113.0/24",  # documentation
            "192.88.99.0/24",  # deprecated 6to4 relay anycast
            "198.18.0.0/15",  # benchmarking
            "240.0.0.0/4",  # reserved
        ),
        "a reserved address",
    ),
)

_IPV6_RULES: tuple[tuple[tuple[IPNetwork, ...], str], ...] = (
    (_nets("::/128"), "an unspecified address"),
    (_nets("::1/128"), "a loopback address"),
    (_nets("fc00::/7"), "a unique-local (private) address"),
    (_nets("fe80::/10"), "a link-local address"),
    (_nets("fec0::/10"), "a site-local address"),
    (_nets("ff00::/8"), "a multicast address"),
    (
        _nets(
            "64:ff9b:1::/48",  # local-use NAT64
            "100::/64",  # discard-only
            "2001::/23",  # IETF protocol assignments (Teredo is unwrapped before this rule)
            "2001:db8::/32",
            "3fff::/20",  # documentation
            "5f00::/16",  # SRv6 SIDs
        ),
        "a reserved address",
    ),
)
_IPV6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_TEREDO = ipaddress.ip_network("2001::/32")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")

_NUMERIC_LABEL = re.compile(r"^(0x[0-9a-f]*|[0-9]+)$", re.IGNORECASE)
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}$", re.IGNORECASE)


def non_public_reason(address: IPAddress) -> str | None:
    """Why ``address`` is not publicly routable (``"a private address"``), or None if it is public.

    IPv6 forms that embed an IPv4 address (IPv4-mapped ``::ffff:0:0/96``, NAT64 ``64:ff9b::/96``,
    6to4 ``2002::/16``, Teredo ``2001::/32``) are judged by the address they embed.
    """
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if isinstance(address, ipaddress.IPv4Address):
        return _match(address, _IPV4_RULES)
    embedded = _embedded_ipv4(address)
    if embedded:
        for inner in embedded:
            reason = non_public_reason(inner)
            if reason is not None:
                return f"an IPv6 address embedding {reason} ({inner})"
        return None
    reason = _match(address, _IPV6_RULES)
    if reason is None and address not in _IPV6_GLOBAL_UNICAST:
        return "a reserved address"
    return reason


def is_public_address(ip: str) -> bool:
    """True if ``ip`` (an IP literal, brackets allowed) is publicly routable; False if not or unparsable."""
    address = parse_ip_literal(ip)
    return address is not None and non_public_reason(address) is None


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address ``host`` denotes if it is an IP literal, else None.

    Accepts what ``ipaddress`` accepts (brackets and a trailing dot stripped, IPv6 zone ids kept) plus
    the legacy ``inet_aton`` IPv4 forms that resolvers and browsers accept: ``2130706433``,
    ``0x7f.1``, ``0177.0.0.1``, ``127.1``. Raises ``ValueError`` for a host that looks numeric but is
    not a valid address (``256.1.1.1``, ``08.0.0.1``), so it cannot slip through to a resolver.
    """
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if text.endswith("."):
        text = text[:-1]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if not _NUMERIC_HOST.match(text):
        if _NUMERIC_LABEL.match(text.rsplit(".", 1)[-1]):  # WHATWG: a name ending in a number is IPv4
            raise ValueError(f"{text!r} looks like an IPv4 address but is not one")
        return None
    return ipaddress.IPv4Address(_inet_aton(text))


def _inet_aton(text: str) -> int:
    parts = [_parse_ipv4_part(p) for p in text.split(".")]
    *leading, last = parts
    if any(p > 0xFF for p in leading) or last >= 1 << (8 * (4 - len(leading))):
        raise ValueError(f"{text!r} is not a valid IPv4 address")
    value = 0
    for p in leading:
        value = (value << 8) | p
    return (value << (8 * (4 - len(leading)))) | last


def _parse_ipv4_part(part: str) -> int:
    lowered = part.lower()
    if lowered.startswith("0x"):
        return int(lowered[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8)  # ValueError for 08, 09
    return int(part, 10)


def _match(address: IPAddress, rules: tuple[tuple[tuple[IPNetwork, ...], str], ...]) -> str | None:
    for networks, reason in rules:
        if any(address in net for net in networks):
            return reason
    return None


def _embedded_ipv4(address: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    if address.ipv4_mapped is not None:
        return (address.ipv4_mapped,)
    if address in _NAT64:
        return (ipaddress.IPv4Address(int(address) & 0xFFFFFFFF),)
    if address in _SIX_TO_FOUR and address.sixtofour is not None:
        return (address.sixtofour,)
    if address in _TEREDO and address.teredo is not None:
        return address.teredo
    return ()


def normalize_host_name(host: str) -> str:
    """Lower-case, brackets and trailing dot removed: the form the blocklist and allowlist compare."""
    text = host.strip().lower()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    return text.rstrip(".")


def is_blocked_host_name(host: str) -> bool:
    """True for ``localhost``, ``metadata.google.internal`` and the other names refused before resolving."""
    name = normalize_host_name(host)
    return name in BLOCKED_HOST_NAMES or name.endswith(BLOCKED_HOST_SUFFIXES)


@dataclass(frozen=True)
class Allowlist:
    """The development allowlist, parsed: exact host names, exact addresses and networks."""

    names: frozenset[str]
    addresses: frozenset[IPAddress]
    networks: tuple[IPNetwork, ...]

    @classmethod
    def parse(cls, entries: Iterable[str]) -> Allowlist:
        """Each entry is a host name, an IP (brackets allowed) or a CIDR; anything not an IP is a name."""
        names: set[str] = set()
        addresses: set[IPAddress] = set()
        networks: list[IPNetwork] = []
        for entry in entries:
            text = normalize_host_name(entry)
            if not text:
                continue
            if "/" in text:
                try:
                    networks.append(ipaddress.ip_network(text, strict=False))
                    continue
                except ValueError:
                    pass
            try:
                address = parse_ip_literal(text)
            except ValueError:
                address = None
            if address is not None:
                addresses.add(address)
            else:
                names.add(text)
        return cls(frozenset(names), frozenset(addresses), tuple(networks))

    def allows_name(self, host: str) -> bool:
        return normalize_host_name(host) in self.names

    def allows_address(self, address: IPAddress) -> bool:
        """Exact addresses always; networks, except that they never re-allow a metadata address."""
        if address in self.addresses:
            return True
        if address in METADATA_ADDRESSES:
            return False
        return any(address.version == net.version and address in net for net in self.networks)
