"""gunicorn settings for the web app: `gunicorn -c deploy/gunicorn.conf.py`.

Run from the checkout (where templates/ and .env live). Configuration comes from the
environment exactly as for the `eudigest` command; EUDIGEST_SECRET_KEY and
EUDIGEST_BASE_URL must be set (pipeline/web/wsgi.py refuses to start without them).
Logs go to stderr through eudigest's formatter (JSON lines under systemd), with no
access log: it would carry client addresses and the tokens in subscriber links; the
TLS proxy keeps its own.
"""

from __future__ import annotations

import multiprocessing
import os
from pathlib import Path

from pipeline import logs
from pipeline.config import Settings, load_dotenv_into

load_dotenv_into(os.environ, Path.cwd() / ".env")
_settings = Settings.from_env(os.environ)

wsgi_app = "pipeline.web.wsgi:app"
# Behind one TLS proxy on the same machine; override with --bind or GUNICORN_CMD_ARGS.
bind = ["127.0.0.1:8000"]
# Sync workers: every request is short (the slowest desk page takes ~40 ms). Each worker
# opens its own database pool after the fork (no preload_app), so nothing is shared.
workers = int(os.environ.get("WEB_CONCURRENCY", min(2 * multiprocessing.cpu_count() + 1, 8)))
worker_class = "sync"
timeout = 60
graceful_timeout = 30
keepalive = 5
max_requests = 2000  # recycle workers now and then (bounded memory)
max_requests_jitter = 200
# The request size limit of the app is 1 MB (forms), 5 MB for the webhook.
limit_request_line = 8190
accesslog = None
control_socket_disable = True  # systemd reloads (HUP) and stops it; no socket in $HOME
logconfig_dict = logs.gunicorn_config(_settings.log_format, _settings.log_level)
