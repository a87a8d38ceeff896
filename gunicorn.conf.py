"""gunicorn settings for the Procfile's web process: PORT and WEB_CONCURRENCY come through genvid's Config."""
from genvid.config import load_or_exit

_config = load_or_exit()

# Production listens on every interface (the platform's router connects to it); anywhere else only this machine.
# `genvid dev` / `genvid serve` bind the port themselves and pass it with --bind fd://N, which overrides this.
bind = f"{_config.bind_host}:{_config.port}"
workers = _config.web_concurrency
# Threads let one worker hold a Server-Sent Events stream while still answering other requests.
worker_class = "gthread"
threads = 8
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 50000            # recycle workers now and then so a slow leak can never grow unbounded
max_requests_jitter = 5000
# Import the app once in the master and fork workers from it: a recycled worker is back in milliseconds
# instead of re-importing everything, and workers share the imported code's memory. The database pool and
# the Redis client open in each worker on first use (genvid.infra.database, genvid.infra.redis_client), never
# in the master.
preload_app = True
accesslog = None                # genvid logs every request itself, as JSON with its request id
errorlog = "-"
loglevel = "info" if _config.is_production else "warning"   # a laptop needs no worker boot lines
forwarded_allow_ips = "*"       # behind Heroku's router; client IPs are read with TRUSTED_PROXY_COUNT
# gunicorn's control socket has one default path per user ($HOME/.gunicorn/gunicorn.ctl), so a second server on
# the same machine would take over the first one's; genvid does not use it.
control_socket_disable = True
