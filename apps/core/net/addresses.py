"""Which IP addresses Atelier may connect to when it fetches a user-supplied URL.

Only public unicast addresses are allowed. Every special-purpose range of the IANA IPv4 and IPv6
registries is refused, and IPv6 forms that carry an IPv4 address (IPv4-mapped, IPv4-compatible,
NAT64, 6to4, Teredo) are judged by the IPv4 address they carry. The reasons returned here never
contain an address, so they can be shown for addresses the user never saw (DNS answers).
"""

import ipaddress
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance-metadata services (AWS, GCP, Azure, Oracle and others on 169.254.169.254; AWS ECS and EKS
# credentials; AWS over IPv6; Alibaba Cloud). Never allowed, whatever SAFE_FETCH_ALLOWED_NETWORKS says.
METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(address)
    for address in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.170.23",
        "fd00:ec2::254",
        "fd00:ec2::23",
        "100.100.100.200",
    )
)

METADATA = "a cloud metadata service address"
PRIVATE = "a private address"
NOT_PUBLIC = "an address that is not publicly routable"


def _table(rows) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(network), reason) for network, reason in rows)


IPV4_REFUSED = _table(
    [
        ("0.0.0.0/8", "an unspecified ('this network') address"),
        ("10.0.0.0/8", PRIVATE),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address"),
        ("172.16.0.0/12", PRIVATE),
        ("192.0.0.0/24", "an IETF protocol-assignment address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a reserved (6to4 relay) address"),
        ("192.168.0.0/16", PRIVATE),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
    ]
)

IPV6_REFUSED = _table(
    [
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("100::/64", "a discard-only address"),
        ("2001:2::/48", "a benchmarking address"),
        ("2001::/23", "an IETF protocol-assignment address"),
        ("2001:db8::/32", "a documentation address"),
        ("3fff::/20", "a documentation address"),
        ("fc00::/7", "a private (unique local) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    ]
)

IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
TEREDO = ipaddress.ip_network("2001::/32")
GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")


def canonical(address: IPAddress) -> IPAddress:
    """The address a connection would really reach: IPv4-mapped IPv6 addresses become IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    if address in IPV4_COMPATIBLE or address in NAT64:
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address.sixtofour is not None:
        return [address.sixtofour]
    if address.teredo is not None:
        return list(address.teredo)
    return []


def _ipv4_reason(address: ipaddress.IPv4Address) -> str | None:
    for network, reason in IPV4_REFUSED:
        if address in network:
            return reason
    if not address.is_global or address.is_multicast or address.is_reserved:
        return NOT_PUBLIC
    return None


def _ipv6_reason(address: ipaddress.IPv6Address) -> str | None:
    if address.scope_id:
        return "a scoped (zone) address"
    for network, reason in IPV6_REFUSED[:2]:
        if address in network:
            return reason
    if address in IPV4_COMPATIBLE:
        inner = _ipv4_reason(_embedded_ipv4(address)[0])
        return f"an IPv4-compatible address carrying {inner}" if inner else "a deprecated IPv4-compatible address"
    if address in NAT64:
        inner = _ipv4_reason(_embedded_ipv4(address)[0])
        # A public IPv4 address reached through the well-known NAT64 prefix (DNS64 networks) is allowed.
        return f"a NAT64 address carrying {inner}" if inner else None
    if address in NAT64_LOCAL:
        return "a local-use NAT64 address"
    if address in TEREDO:
        inner = next(filter(None, (_ipv4_reason(v4) for v4 in _embedded_ipv4(address))), None)
        return f"a Teredo address carrying {inner}" if inner else "a Teredo tunnel address"
    if address in SIX_TO_FOUR:
        inner = _ipv4_reason(_embedded_ipv4(address)[0])
        if inner:
            return f"a 6to4 address carrying {inner}"
    for network, reason in IPV6_REFUSED:
        if address in network:
            return reason
    if address not in GLOBAL_UNICAST:
        return "a reserved address"
    if not address.is_global or address.is_multicast:
        return NOT_PUBLIC
    return None


def refusal_reason(address: IPAddress, allowed_networks: Iterable[IPNetwork] = ()) -> str | None:
    """Why ``address`` must not be connected to, or None when it may be.

    ``allowed_networks`` are ranges to treat as public (SAFE_FETCH_ALLOWED_NETWORKS, for test servers);
    cloud-metadata and unspecified addresses are refused even inside them.
    """
    address = canonical(address)
    carried = _embedded_ipv4(address) if isinstance(address, ipaddress.IPv6Address) else []
    if address in METADATA_ADDRESSES or any(inner in METADATA_ADDRESSES for inner in carried):
        return METADATA
    if address.is_unspecified:
        return "the unspecified address"
    if any(address.version == network.version and address in network for network in allowed_networks):
        return None
    if isinstance(address, ipaddress.IPv4Address):
        return _ipv4_reason(address)
    return _ipv6_reason(address)
