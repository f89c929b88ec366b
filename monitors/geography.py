"""Where countries are, roughly, and how far apart: the basis of impossible travel.

Each ISO 3166-1 alpha-2 code maps to one point: the country's main population
centre, not its geometric centroid, because that is where logins come from (the
centroid of the United States is a Kansas field). A move within one country is
never judged, and a country missing from the table is never judged either: the
detector says so in its evidence instead of guessing.

>>> round(distance_km("DE", "BR"))
10252
>>> distance_km("DE", "XX") is None
True
"""

from __future__ import annotations

import math

EARTH_RADIUS_KM = 6371.0

COUNTRY_POINTS: dict[str, tuple[float, float]] = {
    "AE": (25.20, 55.27), "AR": (-34.60, -58.38), "AT": (48.21, 16.37),
    "AU": (-33.87, 151.21), "BD": (23.81, 90.41), "BE": (50.85, 4.35),
    "BG": (42.70, 23.32), "BR": (-23.55, -46.63), "BY": (53.90, 27.57),
    "CA": (43.65, -79.38), "CH": (47.38, 8.54), "CL": (-33.45, -70.67),
    "CN": (31.23, 121.47), "CO": (4.71, -74.07), "CZ": (50.08, 14.44),
    "DE": (52.52, 13.40), "DK": (55.68, 12.57), "DZ": (36.75, 3.06),
    "EE": (59.44, 24.75), "EG": (30.04, 31.24), "ES": (40.42, -3.70),
    "FI": (60.17, 24.94), "FR": (48.86, 2.35), "GB": (51.51, -0.13),
    "GR": (37.98, 23.73), "HK": (22.32, 114.17), "HU": (47.50, 19.04),
    "ID": (-6.21, 106.85), "IE": (53.35, -6.26), "IL": (32.09, 34.78),
    "IN": (19.08, 72.88), "IQ": (33.31, 44.36), "IR": (35.69, 51.39),
    "IS": (64.15, -21.94), "IT": (41.90, 12.50), "JP": (35.68, 139.69),
    "KE": (-1.29, 36.82), "KP": (39.04, 125.76), "KR": (37.57, 126.98),
    "KZ": (43.24, 76.89), "LT": (54.69, 25.28), "LU": (49.61, 6.13),
    "LV": (56.95, 24.11), "MA": (33.57, -7.59), "MX": (19.43, -99.13),
    "MY": (3.14, 101.69), "NG": (6.52, 3.38), "NL": (52.37, 4.90),
    "NO": (59.91, 10.75), "NZ": (-36.85, 174.76), "PE": (-12.05, -77.04),
    "PH": (14.60, 120.98), "PK": (24.86, 67.01), "PL": (52.23, 21.01),
    "PT": (38.72, -9.14), "RO": (44.43, 26.10), "RS": (44.79, 20.45),
    "RU": (55.76, 37.62), "SA": (24.71, 46.68), "SE": (59.33, 18.07),
    "SG": (1.35, 103.82), "SK": (48.15, 17.11), "TH": (13.76, 100.50),
    "TR": (41.01, 28.98), "TW": (25.03, 121.57), "UA": (50.45, 30.52),
    "US": (40.71, -74.01), "VE": (10.48, -66.90), "VN": (21.03, 105.85),
    "ZA": (-26.20, 28.05),
}  # fmt: skip
"""A representative point (latitude, longitude) per country code."""


def great_circle_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance between two (latitude, longitude) points, in km."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    half_chord = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(half_chord)))


def distance_km(origin: str, destination: str) -> float | None:
    """Distance between two countries' points; None when either is not known."""
    if origin == destination:
        return 0.0
    a, b = COUNTRY_POINTS.get(origin), COUNTRY_POINTS.get(destination)
    if a is None or b is None:
        return None
    return great_circle_km(a, b)
