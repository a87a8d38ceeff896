"""gunicorn settings for the Procfile's web process: PORT and WEB_CONCURRENCY come through genvid's Config."""
from genvid.config import Config

_config = Config.load()

bind = f"0.0.0.0:{_config.port}"
workers = _config.web_concurrency
# Threads let one worker hold a Server-Sent Events stream while still answering other requests.
worker_class = "gthread"
threads = 8
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 10000            # recycle workers now and then so a slow leak can never grow unbounded
max_requests_jitter = 1000
accesslog = None                # genvid logs every request itself, as JSON with its request id
errorlog = "-"
forwarded_allow_ips = "*"       # behind Heroku's router; client IPs are read with TRUSTED_PROXY_COUNT
