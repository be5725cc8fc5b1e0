"""gunicorn settings for the web process (``gunicorn config.wsgi --config deploy/gunicorn.conf.py``).

Every value can be overridden from the environment, so one image fits small and large machines:

- ``WEB_CONCURRENCY``: worker processes. The API is synchronous Django doing database and storage
  I/O, so the classic ``2 x cores + 1`` is the default.
- ``GUNICORN_THREADS``: threads per process (``gthread`` worker when > 1). Threads help when
  requests wait on storage (S3) or remote providers; each thread holds its own database connection,
  so size PostgreSQL's ``max_connections`` for processes x threads (+ Celery workers).
- ``GUNICORN_TIMEOUT``: seconds before a silent worker is killed and replaced. OCS ``schedule`` may
  run a short generation inline, within a share of ``OCS_REQUEST_BUDGET_SECONDS``; keep the timeout above it.
- ``GUNICORN_MAX_REQUESTS``: recycle a process after this many requests (with jitter), bounding
  the effect of any slow memory growth.
"""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
worker_class = "gthread" if threads > 1 else "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "2000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", "200"))
# Request bodies are capped by Django (DATA_UPLOAD_MAX_MEMORY_SIZE, upload handlers); headers here.
limit_request_field_size = 16384
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
# The proxy in front terminates TLS and sets X-Forwarded-*; trust it only from these addresses.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
