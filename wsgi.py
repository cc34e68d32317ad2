"""WSGI entry point: ``gunicorn wsgi:app``."""

from cession_app import web_app

app = web_app()
