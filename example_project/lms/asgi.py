"""ASGI entry point of the example LMS: HTTP, and live progress over WebSockets.

Serve it with daphne (``daphne lms.asgi:application``, or ``manage.py runserver``
when daphne is installed) or uvicorn. Without Django Channels installed it is
the plain Django ASGI application.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lms.settings")

# Set up Django (and its apps) before importing anything that uses the ORM.
django_asgi_app = get_asgi_application()

from django.conf import settings  # noqa: E402

if settings.LMS_LIVE:
    from channels.auth import AuthMiddlewareStack
    from channels.routing import ProtocolTypeRouter, URLRouter
    from channels.security.websocket import AllowedHostsOriginValidator
    from django.urls import path

    from django_learning_progress.live.consumers import ProgressConsumer

    application = ProtocolTypeRouter(
        {
            "http": django_asgi_app,
            # The session cookie authenticates the socket: accept only pages of
            # ALLOWED_HOSTS, so that another site cannot open one as the user.
            "websocket": AllowedHostsOriginValidator(
                AuthMiddlewareStack(URLRouter([path("ws/progress/", ProgressConsumer.as_asgi())]))
            ),
        }
    )
else:
    application = django_asgi_app
