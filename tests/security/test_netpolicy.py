"""Address rules in isolation: which IPs count as public, how odd IPv4 spellings parse, the allowlist."""

from __future__ import annotations

import ipaddress

import pytest

from reelay.security.netpolicy import (
    Allowlist,
    is_blocked_host_name,
    is_public_address,
    non_public_reason,
    normalize_host_name,
    parse_ip_literal,
)


@pytest.mark.parametrize(
    "ip",
    [
        "93.184.216.34",
        "8.8.8.8",
        "2606:4700:4700::1111",
        "[2606:4700:4700::1111]",
        "::ffff:93.184.216.34",  # IPv4-mapped public
        "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
        "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
        "2001:0:4136:e378:8000:63bf:a247:27dd",  # Teredo: server 65.54.227.120, client 93.184.216.34
    ],
)
def test_public(ip: str) -> None:
    assert is_public_address(ip)


@pytest.mark.parametrize(
    ("ip", "reason"),
    [
        ("10.0.0.5", "a private address"),
        ("127.0.0.1", "a loopback address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("100.100.100.200", "a cloud metadata address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("192.0.2.1", "a reserved address"),
        ("::ffff:10.0.0.1", "an IPv6 address embedding a private address (10.0.0.1)"),
        ("2001:db8::1", "a reserved address"),
        ("4000::1", "a reserved address"),  # outside 2000::/3
        ("64:ff9b:1::1", "a reserved address"),
        # Teredo: server 65.54.227.120, client 10.0.0.1 (stored inverted): judged by what it embeds
        ("2001:0:4136:e378:8000:63bf:f5ff:fffe", "an IPv6 address embedding a private address (10.0.0.1)"),
    ],
)
def test_reasons(ip: str, reason: str) -> None:
    assert non_public_reason(ipaddress.ip_address(ip)) == reason
    assert not is_public_address(ip)


def test_unparsable_is_not_public() -> None:
    assert not is_public_address("example.com")
    assert not is_public_address("")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1.258", "10.1.1.2"),
        ("0x0A000001", "10.0.0.1"),
        ("0xff.1", "255.0.0.1"),  # 255 is the largest leading part
        ("0x.1", "0.0.0.1"),  # a bare 0x is zero (WHATWG)
        ("127.0.0.1.", "127.0.0.1"),
        ("[::1]", "::1"),
        ("example.com", None),
        ("0x7f.example", None),
    ],
)
def test_parse_ip_literal(host: str, expected: str | None) -> None:
    parsed = parse_ip_literal(host)
    assert (str(parsed) if parsed else None) == expected


@pytest.mark.parametrize(
    "host",
    ["256.1.1.1", "08.0.0.1", "4294967296", "1.2.65536", "1.2.3.4.5", "a.b.0x10", "0x100.1", "1.256.1", "[1.2.3.4"],
)
def test_numeric_but_invalid_hosts_raise(host: str) -> None:
    with pytest.raises(ValueError):
        parse_ip_literal(host)


def test_blocked_names() -> None:
    for name in (
        "localhost",
        "LOCALHOST.",
        "x.localhost",
        "metadata",
        "metadata.google.internal",
        "db.internal",
    ):
        assert is_blocked_host_name(name)
    assert not is_blocked_host_name("example.com")
    assert not is_blocked_host_name("internal.example.com")


def test_allowlist_parse() -> None:
    allow = Allowlist.parse(["LocalHost", "[::1]", "10.0.0.0/8", "192.168.1.7", " ", "minio"])
    assert allow.allows_name("localhost.")
    assert allow.allows_name("minio")
    assert allow.allows_address(ipaddress.ip_address("::1"))
    assert allow.allows_address(ipaddress.ip_address("10.9.9.9"))
    assert allow.allows_address(ipaddress.ip_address("192.168.1.7"))
    assert not allow.allows_address(ipaddress.ip_address("192.168.1.8"))


def test_brackets_are_removed_only_as_a_pair() -> None:
    assert normalize_host_name(" [FE80::1] ") == "fe80::1" and normalize_host_name("Example.COM.") == "example.com"
    assert normalize_host_name("[::1") == "[::1" and normalize_host_name("box]") == "box]"


def test_allowlist_cidr_with_host_bits_and_numeric_looking_names() -> None:
    allow = Allowlist.parse(["10.1.2.3/8", "999.1.1.1"])
    assert allow.allows_address(ipaddress.ip_address("10.9.9.9"))  # the network of 10.1.2.3/8
    assert allow.allows_name("999.1.1.1") and allow.addresses == frozenset()  # not an IP: a name
