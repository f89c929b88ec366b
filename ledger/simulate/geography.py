"""Where the simulated organisation lives: cities, networks, cloud regions.

Autonomous system numbers and cloud region names are the real, public ones, so that
the traffic looks like traffic. IP addresses are synthetic: every network draws
from its own slice of ranges reserved for documentation and benchmarks (RFC 2544,
RFC 5737, RFC 6598, RFC 3849), so no simulated record names a real host.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field
from random import Random
from zoneinfo import ZoneInfo

_BENCHMARK_NET = ipaddress.IPv4Network("198.18.0.0/15")
_SHARED_NET = ipaddress.IPv4Network("100.64.0.0/10")
_TEST_NETS = (
    ipaddress.IPv4Network("192.0.2.0/24"),
    ipaddress.IPv4Network("198.51.100.0/24"),
    ipaddress.IPv4Network("203.0.113.0/24"),
)
_DOCUMENTATION_V6 = ipaddress.IPv6Network("2001:db8::/32")

# Door to door: check-in, boarding and the trip from the airport.
_TRAVEL_OVERHEAD_HOURS = 3.0
_CRUISE_KMH = 800.0


@dataclass(frozen=True)
class Network:
    """An autonomous system as seen from one country, with a synthetic prefix."""

    asn: int
    name: str
    country: str
    prefix: ipaddress.IPv4Network
    prefix_v6: ipaddress.IPv6Network | None = None

    def address(self, rng: Random, *, v6: bool = False) -> str:
        """A host address inside this network's prefix."""
        if v6 and self.prefix_v6 is not None:
            host = rng.getrandbits(64) or 1
            return str(self.prefix_v6.network_address + host)
        return str(
            self.prefix.network_address
            + rng.randrange(1, self.prefix.num_addresses - 1)
        )


@dataclass(frozen=True)
class City:
    """A place people work from: its country, time zone and access networks."""

    name: str
    country: str
    zone_name: str
    latitude: float
    longitude: float
    networks: tuple[Network, ...] = field(default=())

    @property
    def zone(self) -> ZoneInfo:
        """The city's time zone."""
        return ZoneInfo(self.zone_name)


@dataclass(frozen=True)
class CloudRegion:
    """A cloud region agents run in, with the AS its egress addresses belong to."""

    provider: str
    name: str
    city: City
    network: Network


def _v4(
    network: ipaddress.IPv4Network, index: int, size: int = 24
) -> ipaddress.IPv4Network:
    """The `index`-th subnet of prefix length `size` inside `network`."""
    step = 2 ** (32 - size)
    return ipaddress.IPv4Network((int(network.network_address) + index * step, size))


def _v6(index: int) -> ipaddress.IPv6Network:
    """The `index`-th /48 of the documentation range, skipping the first."""
    step = 2 ** (128 - 48)
    start = int(_DOCUMENTATION_V6.network_address) + (index + 1) * step
    return ipaddress.IPv6Network((start, 48))


def _city(
    name: str,
    country: str,
    zone: str,
    position: tuple[float, float],
    networks: list[tuple[int, str]],
    first_index: int,
) -> City:
    built = tuple(
        Network(
            asn=asn,
            name=label,
            country=country,
            prefix=_v4(_BENCHMARK_NET, first_index + offset),
            prefix_v6=_v6(first_index + offset),
        )
        for offset, (asn, label) in enumerate(networks)
    )
    return City(name, country, zone, position[0], position[1], built)


_CITY_ROWS: list[tuple[str, str, str, tuple[float, float], list[tuple[int, str]]]] = [
    ("Berlin", "DE", "Europe/Berlin", (52.52, 13.40),
     [(3320, "Deutsche Telekom"), (6805, "Telefonica Germany")]),
    ("London", "GB", "Europe/London", (51.51, -0.13),
     [(2856, "BT"), (5089, "Virgin Media")]),
    ("Paris", "FR", "Europe/Paris", (48.86, 2.35),
     [(3215, "Orange"), (12322, "Free")]),
    ("New York", "US", "America/New_York", (40.71, -74.01),
     [(7922, "Comcast"), (701, "Verizon")]),
    ("Chicago", "US", "America/Chicago", (41.88, -87.63),
     [(7922, "Comcast"), (7018, "AT&T")]),
    ("San Francisco", "US", "America/Los_Angeles", (37.77, -122.42),
     [(7018, "AT&T"), (7922, "Comcast")]),
    ("Toronto", "CA", "America/Toronto", (43.65, -79.38),
     [(577, "Bell Canada"), (812, "Rogers")]),
    ("Bengaluru", "IN", "Asia/Kolkata", (12.97, 77.59),
     [(24560, "Bharti Airtel"), (55836, "Reliance Jio")]),
    ("Tokyo", "JP", "Asia/Tokyo", (35.68, 139.69),
     [(2516, "KDDI"), (4713, "NTT OCN")]),
    ("Singapore", "SG", "Asia/Singapore", (1.35, 103.82),
     [(9506, "Singtel"), (4773, "M1")]),
    ("Sydney", "AU", "Australia/Sydney", (-33.87, 151.21),
     [(1221, "Telstra"), (4804, "Optus")]),
    ("Sao Paulo", "BR", "America/Sao_Paulo", (-23.55, -46.63),
     [(28573, "Claro"), (18881, "Vivo")]),
]  # fmt: skip


def _build_cities() -> dict[str, City]:
    cities: dict[str, City] = {}
    index = 0
    for name, country, zone, position, networks in _CITY_ROWS:
        cities[name] = _city(name, country, zone, position, networks, index)
        index += len(networks)
    return cities


CITIES = _build_cities()

HOME_WEIGHTS: dict[str, float] = {
    "Berlin": 22,
    "London": 14,
    "Paris": 8,
    "New York": 14,
    "Chicago": 5,
    "San Francisco": 10,
    "Toronto": 4,
    "Bengaluru": 11,
    "Tokyo": 4,
    "Singapore": 3,
    "Sydney": 3,
    "Sao Paulo": 2,
}
"""Where the organisation's people live, as relative weights."""

_CLOUD_ROWS: list[tuple[str, str, str, int, str]] = [
    ("aws", "eu-central-1", "Berlin", 16509, "Amazon"),
    ("aws", "eu-west-2", "London", 16509, "Amazon"),
    ("aws", "us-east-1", "New York", 14618, "Amazon"),
    ("aws", "us-west-2", "San Francisco", 16509, "Amazon"),
    ("gcp", "europe-west3", "Berlin", 396982, "Google Cloud"),
    ("azure", "eastus", "New York", 8075, "Microsoft"),
    ("aws", "ap-south-1", "Bengaluru", 16509, "Amazon"),
    ("aws", "ap-northeast-1", "Tokyo", 16509, "Amazon"),
]


def _build_regions() -> dict[str, CloudRegion]:
    regions: dict[str, CloudRegion] = {}
    for index, (provider, name, city, asn, label) in enumerate(_CLOUD_ROWS):
        home = CITIES[city]
        network = Network(asn, label, home.country, _v4(_SHARED_NET, index))
        regions[name] = CloudRegion(provider, name, home, network)
    return regions


CLOUD_REGIONS = _build_regions()

_HOSTILE_ROWS: list[tuple[int, str, str, str, tuple[float, float]]] = [
    (14061, "DigitalOcean", "NL", "Amsterdam", (52.37, 4.90)),
    (16276, "OVH", "CA", "Beauharnois", (45.31, -73.87)),
    (24940, "Hetzner", "FI", "Helsinki", (60.17, 24.94)),
    (20473, "Vultr", "JP", "Osaka", (34.69, 135.50)),
    (45899, "VNPT", "VN", "Hanoi", (21.03, 105.85)),
    (4134, "Chinanet", "CN", "Shanghai", (31.23, 121.47)),
    (12389, "Rostelecom", "RU", "Moscow", (55.76, 37.62)),
    (36873, "Airtel Nigeria", "NG", "Lagos", (6.52, 3.38)),
    (262287, "Latitude.sh", "BR", "Fortaleza", (-3.73, -38.52)),
]


@dataclass(frozen=True)
class HostileOrigin:
    """A network attackers connect from: hosting providers and foreign ISPs."""

    network: Network
    city: str
    latitude: float
    longitude: float


def _build_hostile() -> tuple[HostileOrigin, ...]:
    origins = []
    for index, (asn, label, country, city, (lat, lon)) in enumerate(_HOSTILE_ROWS):
        net = _TEST_NETS[index % len(_TEST_NETS)]
        # Each origin gets its own eighth of a TEST-NET block.
        prefix = _v4(net, index // len(_TEST_NETS), size=27)
        origins.append(
            HostileOrigin(Network(asn, label, country, prefix), city, lat, lon)
        )
    return tuple(origins)


HOSTILE_ORIGINS = _build_hostile()


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance between two (latitude, longitude) points."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def travel_hours(origin: City, destination: City) -> float:
    """Door-to-door travel time by air, a plausible lower bound for a real trip."""
    km = distance_km(
        (origin.latitude, origin.longitude),
        (destination.latitude, destination.longitude),
    )
    return _TRAVEL_OVERHEAD_HOURS + km / _CRUISE_KMH
