from django.contrib.auth import views as auth_views
from django.urls import path

from accounts.views import credentials, home, school_admin, sign_in, student_import

app_name = "accounts"

urlpatterns = [
    # Sign-in and passwords
    path("login/", sign_in.sign_in_guarded(sign_in.SignInView.as_view()), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/change/", sign_in.PasswordChangeKeepingSignIn.as_view(), name="password-change"),
    path(
        "password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password-change-done",
    ),
    path("password/reset/", sign_in.RateLimitedPasswordResetView.as_view(), name="password-reset"),
    path(
        "password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password-reset-done",
    ),
    path(
        "password/reset/<uidb64>/<token>/",
        sign_in.RateLimitedPasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    path(
        "password/reset/complete/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password-reset-complete",
    ),
    # The user's own devices (sign-ins)
    path("devices/", sign_in.devices, name="devices"),
    path("devices/<int:sign_in_id>/sign-out/", sign_in.device_sign_out, name="device-sign-out"),
    path(
        "devices/sign-out-others/", sign_in.devices_sign_out_others, name="devices-sign-out-others"
    ),
    # Homes
    path("student/", home.student_home, name="student-home"),
    path("counselor/", home.counselor_home, name="counselor-home"),
    path("school/", home.admin_home, name="admin-home"),
    # School admin
    path("school/accounts/", school_admin.account_list, name="account-list"),
    path("school/accounts/new/", school_admin.account_create, name="account-create"),
    path("school/accounts/<int:user_id>/", school_admin.account_edit, name="account-edit"),
    path(
        "school/accounts/<int:user_id>/consent/",
        school_admin.account_consent,
        name="account-consent",
    ),
    path(
        "school/accounts/<int:user_id>/active/",
        school_admin.account_set_active,
        name="account-set-active",
    ),
    path(
        "school/accounts/<int:user_id>/password/",
        school_admin.account_password_reset,
        name="account-password-reset",
    ),
    path("school/assign/", school_admin.counselor_assign_class, name="assign-class"),
    path("school/classes/", school_admin.class_list, name="class-list"),
    path("school/classes/<int:class_id>/", school_admin.class_edit, name="class-edit"),
    path("school/import/", student_import.import_upload, name="import-upload"),
    path("school/import/preview/", student_import.import_preview, name="import-preview"),
    path("school/credentials/", credentials.credentials_page, name="credentials"),
    path("school/credentials.csv", credentials.credentials_csv, name="credentials-csv"),
    path(
        "school/credentials/dismiss/",
        credentials.credentials_dismiss,
        name="credentials-dismiss",
    ),
]
