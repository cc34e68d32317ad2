"""A bare Flask route, served by the same gunicorn as the app: the yardstick for the pages."""

from flask import Flask

app = Flask(__name__)


@app.route("/")
def bare():
    """The least a Flask view can do."""
    return "ok"
