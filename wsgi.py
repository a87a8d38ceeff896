"""WSGI entry point for gunicorn (`gunicorn -c gunicorn.conf.py wsgi:app`)."""
from genvid import create_app
from genvid.config import load_or_exit
from genvid.infra import services

# The web process's entry point: connect it to its database and Redis, then build the app.
app = create_app(services.start(load_or_exit()))
