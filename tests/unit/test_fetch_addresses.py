"""The fetcher's address rule: which addresses are special, and EUDIGEST_FETCH_ALLOW."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from pipeline.config import Settings, fetch_allow_list, parse_fetch_allow
from pipeline.errors import ConfigError
from pipeline.ingest.fetch import AddressRefused, check_address, special_address


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.178.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("224.0.0.251", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),  # reserved, counted as private by the stdlib
        ("100.64.0.1", "special-purpose"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:10.0.0.1", "private"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
        ("2001:0::1", "Teredo tunnel"),
    ],
)
def test_special_addresses_are_named(text: str, reason: str) -> None:
    assert special_address(ipaddress.ip_address(text)) == reason


@pytest.mark.parametrize("text", ["93.184.215.14", "147.67.34.30", "2a01:7e0::1", "::ffff:8.8.8.8"])
def test_global_addresses_pass(text: str) -> None:
    assert special_address(ipaddress.ip_address(text)) is None


def test_allow_entries_match_host_port_and_ranges() -> None:
    loop = ipaddress.ip_address("127.0.0.1")
    by_port = parse_fetch_allow("127.0.0.1:8080")
    assert by_port.allows("127.0.0.1", 8080, loop)
    assert by_port.allows("localhost", 8080, loop)  # the address the name resolved to
    assert not by_port.allows("127.0.0.1", 8081, loop)
    by_name = parse_fetch_allow("Intranet.Example.")
    assert by_name.allows("intranet.example", 443, ipaddress.ip_address("10.0.0.5"))
    assert not by_name.allows("other.example", 443, ipaddress.ip_address("10.0.0.5"))
    cidr = parse_fetch_allow("10.0.0.0/8")
    assert cidr.allows("x", 1, ipaddress.ip_address("10.9.9.9"))
    assert cidr.allows("x", 1, ipaddress.ip_address("::ffff:10.9.9.9"))
    assert not cidr.allows("x", 1, ipaddress.ip_address("11.0.0.1"))
    v6 = parse_fetch_allow("[::1]:8000")
    assert v6.allows("::1", 8000, ipaddress.ip_address("::1"))
    assert not v6.allows("::1", 8001, ipaddress.ip_address("::1"))


def test_check_address_refuses_with_the_address_and_the_setting() -> None:
    with pytest.raises(AddressRefused) as caught:
        check_address("intranet", 80, ipaddress.ip_address("192.168.1.10"), ())
    message = str(caught.value)
    assert "192.168.1.10:80" in message
    assert "private" in message
    assert "EUDIGEST_FETCH_ALLOW" in message
    check_address(
        "intranet", 80, ipaddress.ip_address("192.168.1.10"), fetch_allow_list("intranet")
    )
    check_address("eu.example", 443, ipaddress.ip_address("147.67.34.30"), ())


@pytest.mark.parametrize("value", ["10.0.0.0/33", "host:0", "host:99999", "a b", "host:x", "[::1"])
def test_a_wrong_allow_entry_names_the_variable(value: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="EUDIGEST_FETCH_ALLOW"):
        Settings.from_env({"EUDIGEST_FETCH_ALLOW": value}, cwd=tmp_path)


def test_allow_is_empty_by_default(tmp_path: Path) -> None:
    assert Settings.from_env({}, cwd=tmp_path).fetch_allow == ()
    s = Settings.from_env({"EUDIGEST_FETCH_ALLOW": " 127.0.0.1:8000, ,fd00::/8 "}, cwd=tmp_path)
    assert [e.text for e in s.fetch_allow] == ["127.0.0.1:8000", "fd00::/8"]
