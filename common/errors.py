"""Errors a user can act on. The CLI prints their message as one line, no traceback."""


class RingscopeError(Exception):
    """Base class: the message says what is wrong and what to do."""


# Why a process of ours ended without a word: on Linux, almost always the kernel's out-of-memory killer.
KILLED_BY_THE_SYSTEM = "killed by the system, most often for lack of memory: `dmesg` says"


class SettingError(RingscopeError):
    """A setting in the environment or a policy file is invalid; names the setting."""


class DatabaseUnavailable(RingscopeError):
    """The database the settings point at cannot be reached."""


class ServerError(RingscopeError):
    """The local Neo4j could not be prepared, started or stopped."""


class DatabaseError(RingscopeError):
    """A statement failed in the database; ``code`` is the server's status code (e.g. Neo.ClientError...)."""

    def __init__(self, message: str, code: str = ""):
        super().__init__(message)
        self.code = code


class QueryTimeout(DatabaseError):
    """A statement ran longer than the configured limit."""

    def __init__(self, message: str):
        super().__init__(message, code="Neo.ClientError.Transaction.TransactionTimedOut")


class ConstraintViolation(DatabaseError):
    """A write broke a uniqueness constraint."""

    def __init__(self, message: str):
        super().__init__(message, code="Neo.ClientError.Schema.ConstraintValidationFailed")
