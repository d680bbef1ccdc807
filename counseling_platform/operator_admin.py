"""The operator admin at /operator/: Django's admin, with the site's sign-in limits.

django-axes already locks its sign-in like the site's; the rate limits come from
accounts.views.sign_in.sign_in_guarded.
"""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse


class OperatorAdminSite(admin.AdminSite):
    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        from accounts.views.sign_in import sign_in_guarded

        parent = super().login
        return sign_in_guarded(lambda inner, context: parent(inner, context))(
            request, extra_context
        )


class OperatorAdminConfig(AdminConfig):
    default_site = "counseling_platform.operator_admin.OperatorAdminSite"
