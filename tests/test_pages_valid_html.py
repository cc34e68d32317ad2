"""Every page the walk of tests/test_hardcoded_strings.py renders (every GET endpoint, every
flow's answer) is valid HTML for the Nu HTML Checker: 0 errors, 0 warnings."""

from tests.test_hardcoded_strings import (  # noqa: F401 (fixtures)
    app_config,
    pseudo_translations,
    walk,
    world,
)


def test_every_page_is_valid_html(app, client, world, log_in, vnu):  # noqa: F811
    walk(app, client, world, log_in, on_page=vnu.add)
    assert len(vnu.documents) > 40
    errors = vnu.errors()
    assert not errors, "\n".join(errors)
