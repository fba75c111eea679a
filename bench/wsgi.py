"""WSGI application of the benchmark project, for ``bench/heartbeat.py``'s server.

The environment chooses the database as for ``bench/run.py`` (``LP_BENCH_DB``,
``LP_BENCH_NAME``).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

application = get_wsgi_application()
