"""Django admin for operators (superusers). Schools use the pages in accounts/views."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import School, SchoolClass, StudentProfile, User


class NoDeleteMixin:
    """Accounts and schools are never deleted here: the audit trail names them as the
    people who acted, and it cannot be rewritten (on PostgreSQL a trigger refuses it).
    Deactivate an account instead, or erase a student's data on request (privacy)."""

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(School)
class SchoolAdmin(NoDeleteMixin, admin.ModelAdmin):
    list_display = ["name", "npsn", "time_zone"]
    search_fields = ["name", "npsn"]


@admin.register(SchoolClass)
class SchoolClassAdmin(admin.ModelAdmin):
    list_display = ["name", "academic_year", "school"]
    list_filter = ["school", "academic_year"]


@admin.register(User)
class UserAdmin(NoDeleteMixin, DjangoUserAdmin):
    list_display = ["username", "first_name", "role", "school", "is_active"]
    list_filter = ["role", "school", "is_active"]
    list_select_related = ["school"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("School"), {"fields": ["role", "school", "must_change_password"]}),
    )
    add_fieldsets = (*DjangoUserAdmin.add_fieldsets, (_("School"), {"fields": ["role", "school"]}))


@admin.register(StudentProfile)
class StudentProfileAdmin(admin.ModelAdmin):
    list_display = ["user", "nisn", "school_class", "counselor", "has_guardian_consent"]
    list_select_related = ["user", "school_class", "counselor"]
    search_fields = ["nisn", "user__username", "user__first_name"]
    raw_id_fields = ["user", "counselor", "guardian_consent_recorded_by"]
