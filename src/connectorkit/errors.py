"""Errors a user can cause, each carrying the exit code the CLI returns for it."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


class ConnectorkitError(Exception):
    """Base class for errors that reach a user as one line of text, never a traceback."""

    exit_code = EXIT_FAILURE


class InputError(ConnectorkitError):
    """The user gave us something we cannot use: a missing file, a bad flag value, a bad document."""

    exit_code = EXIT_USAGE


class SourceError(InputError):
    """A document that cannot be read, located by file, line and column."""

    def __init__(self, file: str, line: int, column: int, problem: str) -> None:
        self.file = file
        self.line = line
        self.column = column
        self.problem = problem
        super().__init__(f"{file}:{line}:{column}: {problem}")

    def __reduce__(self) -> tuple[type[SourceError], tuple[str, int, int, str]]:
        # Rebuilt from its parts, so it survives the trip back from a worker process.
        return (type(self), (self.file, self.line, self.column, self.problem))
