"""URL patterns of the consumer, for a host's ASGI ``URLRouter``.

For example, in the host's ``asgi.py``::

    application = ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
        }
    )
"""

from typing import Any

from django.urls import path

from django_learning_progress.live.consumers import ProgressConsumer

# django-stubs types path() for views; an ASGI application is what URLRouter expects.
_consumer: Any = ProgressConsumer.as_asgi()

websocket_urlpatterns = [path("ws/progress/", _consumer)]

__all__ = ["websocket_urlpatterns"]
