"""Errors that end a run with exit code 2 and one clear message (never a traceback)."""


class AuditorError(Exception):
    """A usage or input error: bad file, missing column, bad rule file, bad option."""

    exit_code = 2


class InputError(AuditorError):
    """A claim or reference file that cannot be read; the message names the file (and column)."""


class RuleError(AuditorError):
    """A rule file that cannot be loaded; the message names the file, line and construct."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        where = ""
        if path:
            where = f"{path}:{line}: " if line else f"{path}: "
        super().__init__(f"{where}{message}")
        self.path, self.line = path, line
