from django.contrib import admin
from django.urls import include, path

from accounts.views.home import home
from counseling_platform.health import healthz

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("sessions/", include("sessions_app.urls")),
    path("questionnaires/", include("instruments.urls")),
    path("analytics/", include("analytics.urls")),
    path("notifications/", include("notifications.urls")),
    path("privacy/", include("privacy.urls")),
    path("audit/", include("audit.urls")),
    path("healthz", healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Django's admin, for operators (superusers) only; schools use their own pages.
    path("operator/", admin.site.urls),
]
