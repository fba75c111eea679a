"""The test settings with live progress (Django Channels) installed.

The channel layer is the in-memory one, or Redis when ``LIVE_REDIS_URL`` is set
(``tox -e live-redis``); the Redis keys carry a prefix of this checkout and
``DB_NAME``, so that test runs sharing one Redis server never see each other's
messages.
"""

import os

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS, TEST_DB_NAME

INSTALLED_APPS = [*INSTALLED_APPS, "django_learning_progress.live"]

LIVE_REDIS_URL = os.environ.get("LIVE_REDIS_URL")
if LIVE_REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [LIVE_REDIS_URL], "prefix": f"{TEST_DB_NAME}:"},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
