# ruff: noqa: E501 — one row a line, one column a person: the table is wider than 100.
"""The permission matrix: for every route, what each person gets.

The expected outcomes come from the rules (../shared/DESIGN.md, issue 7), not from what
the application answers today:
- a student sees only their own things; a counselor only their own clients' things;
- a school admin manages the accounts, classes and settings of their own school and sees
  counts, never chat, notes, answers or scores; another school's admin sees nothing of
  this school; operators work at /operator/ and belong to no school;
- a page for another role answers 403 (accounts.permissions.role_required); an object
  outside the person's reach answers 404 (the selectors filter by owner), so its
  existence is not revealed;
- anonymous visitors are sent to the login page (with ?next=).
Where the application breaks a rule, the cell keeps the rule and is marked `bug(...)`:
the test is then an xfail(strict=True) that says why.

Outcomes
  OK       GET: 200. POST: not refused — done (302), or a form error (200/400/409).
  LOGIN    302 to the login page with ?next= (anonymous visitors).
  E403     403 Forbidden (a page for another role).
  E404     404 Not Found (an object outside the person's reach).
  E405     405 Method Not Allowed.
  OPLOGIN  302 to the operator admin's login page (/operator/login/?next=…).
  NOCHANGE GET: 200 (the person may use the page); POST of this case's objects: a form
           error (200/400), nothing changed — the form only offers the person's own objects.
  SHOWN    GET: 200 and the student's name is on the page.
  HIDDEN   GET: 200 and the student's name is nowhere on the page (a query parameter
           naming the student's objects reaches only the person's own).
  to(name) 302 to that URL (a dispatcher, or a step the page needs first).
  refused(to(name))  302 to that URL, and the POST changes nothing.
  WS_OK / WS_4401 / WS_4403   websocket accepted / closed "signed out" / "forbidden".
Every refused POST (LOGIN, E403, E404, E405, OPLOGIN, NOCHANGE, refused(…)) must leave
every record as it was; a POST-only route answers GET with 405 (or, to a person it
refuses, with that refusal). And whatever the outcome, no page may show a person what
NEVER_SHOWN (at the end) lists for them.

Methods: "GET", "POST" or "GET POST" — the methods each person's outcome applies to.
A key "name [variant]" is one more row for the same route with other arguments
(world.KWARG_OVERRIDES) or a query string (Row.query, "{student_id}" filled from the world
like a URL argument).
"""

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Outcome:
    kind: str  # "ok", "status", "login", "oplogin", "redirect", "nochange", "shown", …
    label: str
    status: int = 0
    target: str = ""  # redirect: a URL name; a suffix when it starts with "/"
    copy: tuple[str, ...] = ()  # redirect: URL kwargs of the request the target takes
    bug: str = ""  # the app breaks the rule here: an xfail(strict) with this reason
    refusal: bool = False  # a redirect that refuses: nothing may change

    @property
    def refuses(self) -> bool:
        return self.refusal or self.kind in ("status", "login", "oplogin", "nochange")

    def __str__(self) -> str:
        return self.label


OK = Outcome("ok", "OK", 200)
LOGIN = Outcome("login", "LOGIN", 302)
OPLOGIN = Outcome("oplogin", "OPLOGIN", 302)
E403 = Outcome("status", "E403", 403)
E404 = Outcome("status", "E404", 404)
E405 = Outcome("status", "E405", 405)
NOCHANGE = Outcome("nochange", "NOCHANGE", 1)
SHOWN = Outcome("shown", "SHOWN", 200)
HIDDEN = Outcome("hidden", "HIDDEN", 200)
WS_OK = Outcome("ws", "WS_OK", 0)
WS_4401 = Outcome("ws", "WS_4401", 4401)  # signed out
WS_4403 = Outcome("ws", "WS_4403", 4403)  # forbidden


def to(target: str, *copy: str) -> Outcome:
    """A redirect to the URL named `target` (reversed with the request's kwargs `copy`),
    or, when `target` starts with "/", to any URL ending so."""
    return Outcome("redirect", f"to({target})", 302, target, copy)


def refused(outcome: Outcome) -> Outcome:
    """`outcome` (a redirect) as a refusal: the POST changes nothing."""
    return replace(outcome, label=f"refused {outcome.label}", refusal=True)


def bug(outcome: Outcome, reason: str) -> Outcome:
    """The rule says `outcome`; the app does otherwise (an xfail until fixed)."""
    return replace(outcome, bug=reason)


@dataclass(frozen=True)
class Row:
    methods: str
    cells: tuple[Outcome, ...]
    query: str = ""


def row(methods: str, *cells: Outcome, query: str = "") -> Row:
    return Row(methods, cells, query)


HOME_S = to("accounts:student-home")
HOME_C = to("accounts:counselor-home")
HOME_A = to("accounts:admin-home")
HOME = to("home")  # "/": where a signed-in person opening the login page is sent
OPHOME = to("admin:index")
SET_PASSWORD = to("/set-password/")  # a valid reset link moves its token into the session
UPLOAD = to("accounts:import-upload")  # nothing uploaded yet
CLIENT_UPLOAD = to("instruments:import-upload", "student_id")
# Ending a sign-in that is not one's own: "that sign-in had already ended", nothing ended.
NOT_YOURS = refused(to("accounts:devices"))

# The operator admin (/operator/) has dozens of generated routes: one row covers the whole
# `admin:` namespace ("operators only"), tried on ADMIN_SAMPLE; its login page has a row.
ADMIN_SAMPLE = (
    "admin:index",
    "admin:app_list",
    "admin:accounts_user_changelist",
    "admin:accounts_user_change",
    "admin:accounts_studentprofile_changelist",
    "admin:auditlog_logentry_changelist",
)

# fmt: off
TABLE: dict[str, Row] = {
    #                                 methods     anonym  student o_stud  counsel o_couns s_admin f_admin operator
    # Home: each signed-in person is sent to their own home; operators to /operator/.
    "home":                      row("GET",       LOGIN,  HOME_S, HOME_S, HOME_C, HOME_C, HOME_A, HOME_A, OPHOME),
    # Sign-in and passwords: open to all; a password change needs a sign-in.
    "accounts:login":            row("GET",       OK,     HOME,   HOME,   HOME,   HOME,   HOME,   HOME,   HOME),
    "accounts:logout":           row("POST",      OK,     OK,     OK,     OK,     OK,     OK,     OK,     OK),
    "accounts:password-change":  row("GET POST",  LOGIN,  OK,     OK,     OK,     OK,     OK,     OK,     OK),
    "accounts:password-change-done": row("GET",   LOGIN,  OK,     OK,     OK,     OK,     OK,     OK,     OK),
    "accounts:password-reset":   row("GET POST",  OK,     OK,     OK,     OK,     OK,     OK,     OK,     OK),
    "accounts:password-reset-done": row("GET",    OK,     OK,     OK,     OK,     OK,     OK,     OK,     OK),
    # The link is the credential: whoever holds it may set the student's password.
    "accounts:password-reset-confirm": row("GET", SET_PASSWORD, SET_PASSWORD, SET_PASSWORD, SET_PASSWORD, SET_PASSWORD, SET_PASSWORD, SET_PASSWORD, SET_PASSWORD),
    "accounts:password-reset-complete": row("GET", OK,    OK,     OK,     OK,     OK,     OK,     OK,     OK),
    # My devices: everyone their own sign-ins; another person's sign-in cannot be ended.
    "accounts:devices":          row("GET",       LOGIN,  OK,     OK,     OK,     OK,     OK,     OK,     OK),
    "accounts:device-sign-out":  row("POST",      LOGIN,  OK,     NOT_YOURS, NOT_YOURS, NOT_YOURS, NOT_YOURS, NOT_YOURS, NOT_YOURS),
    "accounts:devices-sign-out-others": row("POST", LOGIN, OK,    OK,     OK,     OK,     OK,     OK,     OK),
    # Role homes.
    "accounts:student-home":     row("GET",       LOGIN,  OK,     OK,     E403,   E403,   E403,   E403,   E403),
    "accounts:counselor-home":   row("GET",       LOGIN,  E403,   E403,   OK,     OK,     E403,   E403,   E403),
    "accounts:admin-home":       row("GET",       LOGIN,  E403,   E403,   E403,   E403,   OK,     OK,     E403),
    # School admin: their own school's accounts and classes; another school's are a 404.
    "accounts:account-list":     row("GET",       LOGIN,  E403,   E403,   E403,   E403,   OK,     OK,     E403),
    "accounts:account-list [class]": row("GET",  LOGIN,  E403,   E403,   E403,   E403,   SHOWN,  HIDDEN, E403, query="class={class_id}"),
    "accounts:account-create":   row("GET POST",  LOGIN,  E403,   E403,   E403,   E403,   OK,     OK,     E403),
    "accounts:account-edit":     row("GET POST",  LOGIN,  E403,   E403,   E403,   E403,   OK,     E404,   E403),
    "accounts:account-consent":  row("GET POST",  LOGIN,  E403,   E403,   E403,   E403,   OK,     E404,   E403),
    "accounts:account-set-active": row("POST",    LOGIN,  E403,   E403,   E403,   E403,   OK,     E404,   E403),
    "accounts:account-password-reset": row("POST", LOGIN, E403,   E403,   E403,   E403,   OK,     E404,   E403),
    "accounts:assign-class":     row("GET POST",  LOGIN,  E403,   E403,   E403,   E403,   OK,     NOCHANGE, E403),
    "accounts:class-list":       row("GET POST",  LOGIN,  E403,   E403,   E403,   E403,   OK,     OK,     E403),
    "accounts:class-edit":       row("GET POST",  LOGIN,  E403,   E403,   E403,   E403,   OK,     E404,   E403),
    "accounts:import-upload":    row("GET POST",  LOGIN,  E403,   E403,   E403,   E403,   OK,     OK,     E403),
    "accounts:import-preview":   row("GET POST",  LOGIN,  E403,   E403,   E403,   E403,   UPLOAD, UPLOAD, E403),
    "accounts:credentials":      row("GET",       LOGIN,  E403,   E403,   E403,   E403,   OK,     OK,     E403),
    "accounts:credentials-csv":  row("GET",       LOGIN,  E403,   E403,   E403,   E403,   OK,     OK,     E403),
    "accounts:credentials-dismiss": row("POST",   LOGIN,  E403,   E403,   E403,   E403,   OK,     OK,     E403),
    # Booking: a student books with their own counselor; a counselor keeps their own
    # availability and schedules sessions for their own clients only.
    "sessions:book":             row("GET POST",  LOGIN,  OK,     OK,     E403,   E403,   E403,   E403,   E403),
    "sessions:my-sessions":      row("GET",       LOGIN,  OK,     OK,     E403,   E403,   E403,   E403,   E403),
    "sessions:schedule":         row("GET",       LOGIN,  E403,   E403,   OK,     OK,     E403,   E403,   E403),
    "sessions:availability":     row("GET POST",  LOGIN,  E403,   E403,   OK,     OK,     E403,   E403,   E403),
    "sessions:availability-delete": row("POST",   LOGIN,  E403,   E403,   OK,     E404,   E403,   E403,   E403),
    "sessions:session-create":   row("GET POST",  LOGIN,  E403,   E403,   OK,     NOCHANGE, E403, E403,   E403),
    "sessions:session-create [student]": row("GET", LOGIN, E403,  E403,   SHOWN,  HIDDEN, E403,   E403,   E403, query="student={student_id}"),
    # One session: its student and its counselor only; admins never open a session.
    "sessions:session-detail":   row("GET",       LOGIN,  OK,     E404,   OK,     E404,   E403,   E403,   E403),
    "sessions:session-calendar": row("GET",       LOGIN,  OK,     E404,   OK,     E404,   E403,   E403,   E403),
    "sessions:session-action":   row("POST",      LOGIN,  OK,     E404,   OK,     E404,   E403,   E403,   E403),  # cancel: either side
    "sessions:session-action [complete]": row("POST", LOGIN, E404, E404,  OK,     E404,   E403,   E403,   E403),  # counselor's action
    "sessions:session-action [consent]": row("POST", LOGIN, OK,   E404,   E404,   E404,   E403,   E403,   E403),  # student's action
    # The room and the chat: the two participants; the note and outcome: the counselor.
    "sessions:room":             row("GET",       LOGIN,  OK,     E404,   OK,     E404,   E403,   E403,   E403),
    "sessions:room-note":        row("POST",      LOGIN,  E403,   E403,   OK,     E404,   E403,   E403,   E403),
    "sessions:room-outcome":     row("POST",      LOGIN,  E403,   E403,   OK,     E404,   E403,   E403,   E403),
    "sessions:transcript":       row("GET",       LOGIN,  OK,     E404,   OK,     E404,   E403,   E403,   E403),
    "sessions:transcript [export]": row("GET",    LOGIN,  E404,   E404,   OK,     E404,   E403,   E403,   E403, query="format=txt"),
    # School admin: the school's booking settings, and counts only.
    "sessions:booking-settings": row("GET POST",  LOGIN,  E403,   E403,   E403,   E403,   OK,     OK,     E403),
    "sessions:statistics":       row("GET",       LOGIN,  E403,   E403,   E403,   E403,   OK,     OK,     E403),
    # Questionnaires: the student answers their own; their counselor sees and manages them.
    "instruments:answer":        row("GET POST",  LOGIN,  OK,     E404,   E403,   E403,   E403,   E403,   E403),
    "instruments:skip":          row("POST",      LOGIN,  OK,     E404,   E403,   E403,   E403,   E403,   E403),
    "instruments:client-detail": row("GET",       LOGIN,  E403,   E403,   OK,     E404,   E403,   E403,   E403),
    "instruments:administration-schedule": row("POST", LOGIN, E403, E403, OK,     E404,   E403,   E403,   E403),
    "instruments:import-upload": row("GET POST",  LOGIN,  E403,   E403,   OK,     E404,   E403,   E403,   E403),
    "instruments:import-preview": row("GET POST", LOGIN,  E403,   E403,   CLIENT_UPLOAD, E404, E403, E403, E403),
    "instruments:administration-cancel": row("POST", LOGIN, E403, E403,   OK,     E404,   E403,   E403,   E403),
    "instruments:response-void": row("GET POST",  LOGIN,  E403,   E403,   OK,     E404,   E403,   E403,   E403),
    "instruments:reliability":   row("GET",       LOGIN,  E403,   E403,   OK,     OK,     E403,   E403,   E403),
    # Analytics: a counselor's own clients; a student their own anxiety trend once shared
    # (shared with the student, not with the other student: theirs is a 404).
    "analytics:caseload":        row("GET",       LOGIN,  E403,   E403,   OK,     OK,     E403,   E403,   E403),
    "analytics:multiple-baseline": row("GET",     LOGIN,  E403,   E403,   OK,     OK,     E403,   E403,   E403),
    "analytics:multiple-baseline [client]": row("GET", LOGIN, E403, E403, SHOWN,  HIDDEN, E403,   E403,   E403, query="client={student_id}"),
    "analytics:client-trends":   row("GET",       LOGIN,  E403,   E403,   OK,     E404,   E403,   E403,   E403),
    "analytics:trend-share":     row("POST",      LOGIN,  E403,   E403,   OK,     E404,   E403,   E403,   E403),
    "analytics:report":          row("GET",       LOGIN,  E403,   E403,   OK,     E404,   E403,   E403,   E403),
    "analytics:report-pdf":      row("GET",       LOGIN,  E403,   E403,   OK,     E404,   E403,   E403,   E403),
    "analytics:report-csv":      row("GET",       LOGIN,  E403,   E403,   OK,     E404,   E403,   E403,   E403),
    "analytics:my-anxiety":      row("GET",       LOGIN,  OK,     E404,   E403,   E403,   E403,   E403,   E403),
    # Notifications: everyone signed in has their own; one notification: its owner only.
    "notifications:notification-list": row("GET", LOGIN, OK,     OK,     OK,     OK,     OK,     OK,     OK),
    "notifications:notification-open": row("POST", LOGIN, OK,     E404,   E404,   E404,   E404,   E404,   E404),
    "notifications:notification-read-all": row("POST", LOGIN, OK, OK,     OK,     OK,     OK,     OK,     OK),
    # Data-protection rights: a student downloads their own data; the school admin, on a
    # written request, downloads or erases a student's data of their own school.
    "privacy:my-data":           row("GET POST",  LOGIN,  OK,     OK,     E403,   E403,   E403,   E403,   E403),
    "privacy:request-list":      row("GET",       LOGIN,  E403,   E403,   E403,   E403,   OK,     OK,     E403),
    "privacy:student-export":    row("GET POST",  LOGIN,  E403,   E403,   E403,   E403,   OK,     E404,   E403),
    "privacy:student-erase":     row("GET POST",  LOGIN,  E403,   E403,   E403,   E403,   OK,     E404,   E403),
    # The audit trail: a counselor sees who read their clients' records; a school admin
    # sees account and consent changes of their own school.
    "audit:client-record-reads": row("GET",       LOGIN,  E403,   E403,   OK,     OK,     E403,   E403,   E403),
    "audit:client-record-reads [client]": row("GET", LOGIN, E403, E403,   SHOWN,  HIDDEN, E403,   E403,   E403, query="client={student_id}"),
    "audit:account-changes":     row("GET",       LOGIN,  E403,   E403,   E403,   E403,   OK,     OK,     E403),
    # Site-wide.
    "healthz":                   row("GET",       OK,     OK,     OK,     OK,     OK,     OK,     OK,     OK),
    "set_language":              row("GET POST",  HOME,   HOME,   HOME,   HOME,   HOME,   HOME,   HOME,   HOME),  # next=/
    # The operator admin: operators only (tried on ADMIN_SAMPLE); its login page for all.
    "admin:*":                   row("GET",       OPLOGIN, OPLOGIN, OPLOGIN, OPLOGIN, OPLOGIN, OPLOGIN, OPLOGIN, OK),
    "admin:login":               row("GET",       OK,     OK,     OK,     OK,     OK,     OK,     OK,     OPHOME),
    # Websockets: the session room, for the session's two participants only.
    "ws:ws/sessions/<int:session_id>/room/": row("WS", WS_4401, WS_OK, WS_4403, WS_OK, WS_4403, WS_4403, WS_4403, WS_4403),
}
# fmt: on


# What each person must never receive from any page, whatever the route and its outcome
# (world.secrets: the student's name, their chat, the counselor's note, the intake the
# student wrote). Checked on every text response of every cell.
NEVER_SHOWN: dict[str, tuple[str, ...]] = {
    "anonymous": ("name", "chat", "note", "intake"),
    "student": ("note",),  # the note is the counselor's alone
    "other_student": ("name", "chat", "note", "intake"),
    "counselor": (),
    "other_counselor": ("name", "chat", "note", "intake"),
    "school_admin": ("chat", "note", "intake"),  # accounts, not content
    "foreign_admin": ("name", "chat", "note", "intake"),
    "operator": ("chat", "note", "intake"),
}


def route_name(key: str) -> str:
    """The route a table key is about: "sessions:transcript [export]" -> "sessions:transcript"."""
    return key.split(" [")[0]


def wildcard_covers(key: str, route_key: str) -> bool:
    return key.endswith(":*") and route_key.startswith(key[:-1])
