"""Reading filters from a page's query string."""

# The largest id a database key holds (BigAutoField): a larger number names nothing, and
# SQLite and PostgreSQL refuse it as a query parameter.
ID_MAX = 2**63 - 1


def int_or_none(value: str | None) -> int | None:
    """A whole number from the query string, or None for anything else (a filter the
    user did not set, or one they mistyped: the page shows everything instead)."""
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number is None or -ID_MAX <= number <= ID_MAX else None
