"""Errors a user can act on. The CLI prints their message as one line, no traceback."""


class RingscopeError(Exception):
    """Base class: the message says what is wrong and what to do."""


class SettingError(RingscopeError):
    """A setting in the environment or a policy file is invalid; names the setting."""


class DatabaseUnavailable(RingscopeError):
    """The database the settings point at cannot be reached."""


class ServerError(RingscopeError):
    """The local Neo4j could not be prepared, started or stopped."""
