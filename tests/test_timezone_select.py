"""The time-zone select of My data (issue 11, item 10): grouped by region, the provider's
countries first, each zone named in the reader's language, the IANA name as the value."""

import re

from cession_app.accounts import timezones
from cession_app.extensions import db
from cession_app.models import Account


def _select(page):
    start = page.index('<select id="timezone"')
    return page[start : page.index("</select>", start)]


def _groups(select):
    """[(group label, [(value, label)])] of a select's HTML."""
    groups = []
    for label, body in re.findall(r'<optgroup label="([^"]*)">(.*?)</optgroup>', select, re.S):
        options = re.findall(r'<option (?:selected )?value="([^"]+)">([^<]*)</option>', body)
        groups.append((label, options))
    return groups


def test_zones_are_grouped_by_region_with_the_provider_countries_first(client, make, log_in):
    make.account("novak", language="cs", timezone="Europe/Prague")
    log_in("novak")
    select = _select(client.get("/my-data").get_data(as_text=True))
    groups = _groups(select)
    names = [label for label, _options in groups]
    assert names[:4] == ["Nejčastější", "Evropa", "Amerika", "Asie"]
    first = groups[0][1]
    assert [value for value, _label in first[:5]] == [
        "Europe/Prague",
        "Europe/Warsaw",
        "Europe/Berlin",
        "Europe/Vienna",
        "Europe/Bratislava",
    ]
    assert first[0] == ("Europe/Prague", "Praha (Česko)")  # Babel's names, in Czech
    assert ("Europe/Warsaw", "Varšava (Polsko)") in first
    europe = dict(groups[1][1])
    assert europe["Europe/Paris"] == "Paříž (Francie)"
    assert "Europe/Prague" not in europe  # each zone once: one selected option
    assert select.count("selected") == 1
    assert 'selected value="Europe/Prague"' in select
    values = [value for _label, options in groups for value, _name in options]
    assert len(values) == len(set(values)) > 300
    assert "Europe/Kiev" not in values and "Europe/Kyiv" in values  # no deprecated aliases


def test_labels_follow_the_readers_language(client, make, log_in):
    make.account("kowalski", language="pl", timezone="Europe/Warsaw")
    log_in("kowalski")
    groups = _groups(_select(client.get("/my-data").get_data(as_text=True)))
    assert groups[0][0] == "Najczęściej wybierane"
    assert ("Europe/Prague", "Praga (Czechy)") in groups[0][1]
    regions = [label for label, _options in groups]
    assert "Ocean Spokojny" in regions and "Afryka" in regions


def test_a_zone_of_any_region_can_be_saved(client, make, log_in):
    me = make.account("novak", language="de")
    log_in("novak")
    response = client.post("/my-data", data={"language": "de", "timezone": "Asia/Tokyo"})
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Account, me.id).timezone == "Asia/Tokyo"
    page = client.get("/my-data").get_data(as_text=True)
    assert 'selected value="Asia/Tokyo">Tokio (Japan)</option>' in page


def test_an_older_alias_stays_selectable_for_the_account_that_has_it(app, make):
    with app.test_request_context():
        choices = timezones.grouped_choices("en", current="Europe/Kiev")
    first = next(iter(choices.values()))
    assert ("Europe/Kiev", "Europe/Kiev") in first
    assert set(timezones.offered()) >= {"Europe/Prague", "America/New_York", "Pacific/Auckland"}
