"""Every route the application serves, enumerated from the URLconf and the websocket
router, so that a new view cannot escape the matrix."""

import re
from dataclasses import dataclass

from channels.routing import URLRouter
from django.urls import URLPattern, URLResolver, get_resolver

from counseling_platform import asgi, routing

WEBSOCKET_PREFIX = "ws:"


@dataclass(frozen=True)
class Route:
    key: str  # the namespaced URL name ("sessions:room"), or "ws:<pattern>" for a socket
    pattern: str  # the whole path pattern, prefixes included
    kwargs: tuple[str, ...]  # the names of the URL's keyword arguments

    @property
    def namespace(self) -> str:
        return self.key.rpartition(":")[0]


def _kwarg_names(pattern: str) -> tuple[str, ...]:
    # path() converters "<int:session_id>" / "<token>", re_path groups "(?P<url>...)".
    names = re.findall(r"<(?:\w+:)?(\w+)>", pattern)
    return tuple(names)


def _walk(patterns, prefix: str = "", namespace: str = ""):
    for entry in patterns:
        pattern = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _walk(entry.url_patterns, pattern, inner)
        elif isinstance(getattr(entry, "callback", None), URLRouter):  # nested websocket router
            yield from _walk(entry.callback.routes, pattern, namespace)
        elif isinstance(entry, URLPattern):
            # An unnamed route is named by its pattern: it still needs a row.
            name = entry.name if entry.name else f"<{pattern}>"
            yield Route(f"{namespace}{name}", pattern, _kwarg_names(pattern))


def http_routes() -> list[Route]:
    """Every route of the root URLconf, walked recursively through every include()."""
    return list(_walk(get_resolver().url_patterns))


def websocket_routes() -> list[Route]:
    """Every websocket route the ASGI application routes (counseling_platform.routing)."""
    assert asgi.websocket_urlpatterns is routing.websocket_urlpatterns, (
        "counseling_platform.asgi must route counseling_platform.routing.websocket_urlpatterns"
    )
    return [
        Route(f"{WEBSOCKET_PREFIX}{route.pattern}", route.pattern, route.kwargs)
        for route in _walk(routing.websocket_urlpatterns)
    ]


def all_routes() -> list[Route]:
    return [*http_routes(), *websocket_routes()]
