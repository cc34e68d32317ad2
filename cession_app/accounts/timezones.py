"""The time zones an account can choose: grouped by region, the provider's countries first,
each named in the reader's language by Babel ("Praha (Česko)"), the IANA name as the value."""

import unicodedata
from functools import cache
from zoneinfo import available_timezones

from babel import Locale
from babel.core import get_global
from babel.dates import get_timezone_location

from ..i18n import lazy_gettext as _l

# The zones of the provider's countries and their neighbours, first and in this order.
COMMON = (
    "Europe/Prague",
    "Europe/Warsaw",
    "Europe/Berlin",
    "Europe/Vienna",
    "Europe/Bratislava",
    "Europe/Budapest",
    "Europe/Zurich",
    "Europe/London",
)
# The IANA regions, in the order the select shows them (the nearest first).
REGIONS = {
    "Europe": _l("Europe"),
    "America": _l("Americas"),
    "Asia": _l("Asia"),
    "Africa": _l("Africa"),
    "Australia": _l("Australia"),
    "Pacific": _l("Pacific Ocean"),
    "Atlantic": _l("Atlantic Ocean"),
    "Indian": _l("Indian Ocean"),
    "Antarctica": _l("Antarctica"),
    "Arctic": _l("Arctic"),
}
WORLD = "001"  # CLDR's territory of zones that belong to no country (Antarctic stations)


@cache
def zones():
    """Every current zone of the regions (no deprecated aliases such as Europe/Kiev)."""
    aliases = get_global("zone_aliases")
    return tuple(
        sorted(
            name
            for name in available_timezones()
            if name.split("/")[0] in REGIONS and name not in aliases
        )
    )


def zone_label(name, locale):
    """A zone named by its city and country in ``locale``: "Praha (Česko)", "Singapur"."""
    locale = Locale.parse(locale)
    city = get_timezone_location(name, locale, return_city=True)
    territory = get_global("zone_territories").get(name)
    country = locale.territories.get(territory) if territory not in (None, WORLD) else None
    return f"{city} ({country})" if country and country != city else city


def _sort_key(label):
    """Alphabetical for a reader: "Šanghaj" next to "Sao Paulo", not after "Z"."""
    plain = unicodedata.normalize("NFKD", label)
    return "".join(c for c in plain if not unicodedata.combining(c)).casefold()


@cache
def _grouped(locale):
    common = [(name, zone_label(name, locale)) for name in COMMON]
    regions = {key: [] for key in REGIONS}
    for name in zones():
        if name not in COMMON:
            regions[name.split("/")[0]].append((name, zone_label(name, locale)))
    ordered = [
        (key, sorted(found, key=lambda c: _sort_key(c[1]))) for key, found in regions.items()
    ]
    return tuple(common), tuple((key, tuple(found)) for key, found in ordered if found)


def grouped_choices(locale, current=None):
    """{group label: [(zone, label)]} for a select with <optgroup>: the common zones first,
    then each region. A ``current`` zone offered nowhere else (an older alias) is kept in
    the first group, so that saving other settings does not fail on it."""
    common, regions = _grouped(str(locale))
    first = list(common)
    known = {name for name, _label in common}
    known |= {name for _key, found in regions for name, _label in found}
    if current and current not in known:
        first.append((current, current))
    choices = {str(_l("Most common")): first}
    for key, found in regions:
        choices[str(REGIONS[key])] = list(found)
    return choices


def offered():
    """Every zone value the select offers (for checks that need the flat list)."""
    return list(COMMON) + [name for name in zones() if name not in COMMON]
