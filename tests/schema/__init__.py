"""Schemathesis against the served OpenAPI schema (``tox -e schema``)."""
