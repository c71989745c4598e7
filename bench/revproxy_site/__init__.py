"""A minimal Django project serving django-revproxy: the peer front door of gateway_bench.py."""
