"""One WSGI app for gunicorn: cession at ``/``, the bare Flask route at ``/bare/``.

Both run in the same worker processes, so the ratio of their figures is fair.
"""

from werkzeug.middleware.dispatcher import DispatcherMiddleware

from bench.bare import app as bare_app
from cession_app import web_app

app = DispatcherMiddleware(web_app(), {"/bare": bare_app})
