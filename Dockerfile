# cession in a container: the same image runs the web app (default) and the worker
# (command: flask --app cession_app worker). See compose.yaml and README, "Production install".
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# The runtime lock only: exact versions with hashes, as `make install` uses.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock

COPY wsgi.py pyproject.toml ./
COPY cession_app ./cession_app
COPY static ./static
COPY translations ./translations
RUN pybabel compile -d translations \
    && useradd --system --no-create-home --home-dir /app cession \
    && mkdir -p /app/instance && chown cession /app/instance

USER cession
EXPOSE 8000
CMD ["gunicorn", "--workers", "3", "--bind", "0.0.0.0:8000", "--access-logfile", "-", "wsgi:app"]
