"""WSGI entry point: ``gunicorn wsgi:app``."""

from cession_app import create_app

app = create_app()
