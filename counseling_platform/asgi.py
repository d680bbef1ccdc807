"""ASGI entry point: Django for HTTP; Channels for websockets behind session
authentication and an allowed-hosts origin check."""

import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "counseling_platform.settings")
# Set up Django (apps, models) before anything imports consumers.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from counseling_platform.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
    }
)

# Import the views now (the URLconf imports them) rather than on the first request, then
# take everything loaded so far, which lives as long as the process, out of the garbage
# collector's sight: each full collection would otherwise walk these ~180 000 objects
# again, 60–100 ms at a time in the middle of some request (bench/README.md, the
# analytics pages). The start-up's own garbage is collected first, not kept for good.
import_module(settings.ROOT_URLCONF)
gc.collect()
gc.freeze()
