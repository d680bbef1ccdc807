"""Deploy checks (`manage.py check --deploy`) for what only fails with several processes.

Without Redis the app still runs, on a per-process cache and an in-memory channel layer,
and nothing looks wrong on one process. In production each server process would then
count its own sign-in and reset limits, and signing out, ending a device, deactivation
and a new password would close session-room connections only in the process that
handled the request; two people in one room on two processes would not hear each other.
"""

from django.conf import settings
from django.core.checks import Warning, register

PER_PROCESS_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}
IN_MEMORY_CHANNEL_LAYERS = {"channels.layers.InMemoryChannelLayer"}


@register(deploy=True)
def shared_services_check(app_configs, **kwargs) -> list[Warning]:
    warnings = []
    layer = settings.CHANNEL_LAYERS.get("default", {}).get("BACKEND", "")
    if layer in IN_MEMORY_CHANNEL_LAYERS:
        warnings.append(
            Warning(
                f"The channel layer is in memory ({layer}): real-time messages and "
                "sign-outs reach only connections of the same server process.",
                hint="Set REDIS_URL.",
                id="ruangbk.W001",
            )
        )
    cache = settings.CACHES.get("default", {}).get("BACKEND", "")
    if cache in PER_PROCESS_CACHES:
        warnings.append(
            Warning(
                f"The cache is per process ({cache}): each server process counts its own "
                "sign-in and password-reset rate limits.",
                hint="Set REDIS_URL (or REDIS_CACHE_URL).",
                id="ruangbk.W002",
            )
        )
    return warnings
