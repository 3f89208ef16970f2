"""Domain errors: the hub maps each type to one HTTP status, so services never think in HTTP."""


class DomainError(Exception):
    """Base of every error the registry raises on purpose; the message is shown to the caller."""


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it exists."""


class Conflict(DomainError):
    """The request contradicts the registry's state (e.g. editing a trialled version)."""


class Forbidden(DomainError):
    """The caller is known but their role may not do this."""


class Invalid(DomainError):
    """The request is well-formed but its values are impossible."""


class TooMany(DomainError):
    """The caller already has as much under way as a limit allows; the message names it."""
