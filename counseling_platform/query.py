"""Reading filters from a page's query string."""


def int_or_none(value: str | None) -> int | None:
    """A whole number from the query string, or None for anything else (a filter the
    user did not set, or one they mistyped: the page shows everything instead)."""
    try:
        return int(value) if value else None
    except ValueError:
        return None
