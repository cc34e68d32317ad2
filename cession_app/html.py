"""The one place where text becomes HTML (Markup) without being escaped again.

Templates escape every value they show (autoescaping), and no template marks anything
``|safe``. A few modules build HTML in Python for speed or because Jinja does the same
itself; each passes the result through :func:`safe_html`, and every value it put into
that text was escaped first (``markupsafe.escape``) or is known to be plain (tested):

- ``i18n``: a translated message (the catalog's own text) with its placeholders filled
  through ``Markup %``, which escapes them; Jinja's newstyle gettext does the same;
- ``widgets``: form fields, whose output ``tests/test_widgets.py`` compares with WTForms'
  own for hostile values;
- ``templating``: the layout's pieces, the output of an autoescaping template, kept;
- ``services/listing``: My services' values, escaped once per page; only an id made of
  letters, digits and ``_.~/-`` is taken as it is (``tests/test_services.py``).

``tests/security/test_xss.py`` allows ``Markup(`` in this module alone, and
:func:`safe_html` in the modules above alone.
"""

from markupsafe import Markup

__all__ = ["safe_html"]


# ``safe_html(text)``: ``text`` as HTML that is not escaped again, only for text whose values
# are escaped. Markup itself under this name (no extra call: My services calls it per row).
safe_html = Markup
