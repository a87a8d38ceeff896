"""WSGI entry point for gunicorn (`gunicorn -c gunicorn.conf.py wsgi:app`)."""
from genvid import create_app
from genvid.config import load_or_exit

app = create_app(load_or_exit())
