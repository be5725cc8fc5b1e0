# syntax=docker/dockerfile:1
# Atelier production image: one image for the web, worker and beat processes (see
# deploy/docker-compose.yml and docs/operations.md, "Containers").
FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    ATELIER_VAR_DIR=/var/lib/atelier

WORKDIR /app

# Wheels only: psycopg[binary], Pillow, cryptography and argon2 ship manylinux wheels, so the image
# needs no compiler. tini reaps zombies and forwards signals (warm shutdown of Celery workers).
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system atelier && useradd --system --gid atelier --home-dir /app atelier \
    && mkdir -p /var/lib/atelier && chown atelier:atelier /var/lib/atelier

COPY requirements/ requirements/
RUN pip install -r requirements/prod.txt

COPY . .

# Static files are collected at build time; WhiteNoise serves them. The production settings need a
# secret and hosts to load, so throw-away values are given for this one command only.
RUN SECRET_KEY=build-only-$(python -c "import secrets; print(secrets.token_urlsafe(48))") \
    ALLOWED_HOSTS=localhost STATIC_ROOT=/app/staticfiles \
    python manage.py collectstatic --noinput \
    && chown -R atelier:atelier /app/staticfiles

ENV STATIC_ROOT=/app/staticfiles
USER atelier
EXPOSE 8000

ENTRYPOINT ["tini", "--"]
# The web process by default; the compose file runs the worker and beat from the same image.
CMD ["gunicorn", "config.wsgi", "--config", "deploy/gunicorn.conf.py"]
