"""The base of every app's domain errors."""


class DomainError(Exception):
    """A business rule was broken. `code` is stable (tests and callers branch on it);
    `message` is translated and shown to the user as it is."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
