"""The WSGI entry point for production: `gunicorn 'pipeline.web.wsgi:app'` behind a TLS proxy.

Configuration comes from the environment (and an optional .env in the working
directory), exactly as for the `eudigest` command. EUDIGEST_SECRET_KEY must be set:
with several gunicorn workers a random per-process key would log people out.
"""

from __future__ import annotations

import os
from pathlib import Path

from werkzeug.middleware.proxy_fix import ProxyFix

from pipeline.bootstrap import build
from pipeline.config import Settings, load_dotenv_into
from pipeline.errors import ConfigError
from pipeline.web import create_app

load_dotenv_into(os.environ, Path.cwd() / ".env")
_settings = Settings.from_env(os.environ)
if _settings.secret_key is None:
    raise ConfigError("EUDIGEST_SECRET_KEY must be set to serve the desk in production")
if _settings.base_url is None:
    # Links in mails must not come from a Host header a caller can forge.
    raise ConfigError("EUDIGEST_BASE_URL must be set to serve in production")
app = create_app(_settings, build(_settings))
# Behind exactly one TLS proxy: take the client address (per-IP rate limits) and the
# scheme from its X-Forwarded-* headers, and nothing further out.
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
