"""The REST API shell: parse HTTP, call a service, render JSON; errors as RFC 9457 problems."""

from ucp.api.app import create_app

__all__ = ["create_app"]
