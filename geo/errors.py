"""Our exception classes.

Every message names the input (file, row, column or argument), says what was received and how to
fix it. Build them from a catalogue code, ``raise InputDataError(msg("geo.tables.empty_file",
file=name))`` (:mod:`geo.messages`): ``str(exc)`` is the English text (logs, the CLI), and
:meth:`CoverageToolError.text` gives the planner's language. Never a traceback reaches a planner.
"""

from __future__ import annotations

from geo.messages import localise, msg

__all__ = [
    "CategoryError",
    "ColumnNotFoundError",
    "ConfigError",
    "CoordinateError",
    "CoverageToolError",
    "DuplicateIdError",
    "EmptyNetworkError",
    "EncodingDetectionError",
    "GeometryError",
    "InputDataError",
    "NetworkError",
    "NetworkFormatError",
    "OfflineError",
    "SolverError",
    "UsageError",
    "is_expected",
    "one_line",
]


class CoverageToolError(Exception):
    """Base class of every error this tool raises on purpose."""

    def text(self, lang: str) -> str:
        """The message in ``lang`` (``"zh"`` or ``"en"``); see :mod:`geo.messages`."""
        return localise(self.args[0], lang) if self.args else ""


class InputDataError(CoverageToolError, ValueError):
    """A user file or table cannot be used as it is (empty, wrong columns, bad values)."""


class EncodingDetectionError(InputDataError):
    """A text file's character encoding could not be determined."""


class ColumnNotFoundError(InputDataError, KeyError):
    """A required column (coordinates, population, ...) is missing or ambiguous."""

    def __str__(self) -> str:
        # KeyError would wrap the message in quotes.
        return str(self.args[0]) if self.args else ""


class CoordinateError(InputDataError):
    """Coordinates are out of range, swapped, outside the study area or in an unknown datum."""


class GeometryError(InputDataError):
    """A geometry is missing, empty or unreadable."""


class DuplicateIdError(InputDataError):
    """The same identifier appears more than once."""


class CategoryError(InputDataError, KeyError):
    """A facility category is unknown to the taxonomy."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class NetworkError(CoverageToolError):
    """A road network cannot be loaded or used."""


class NetworkFormatError(NetworkError, ValueError):
    """A network file is of the wrong or an unreadable format."""


class EmptyNetworkError(NetworkError, ValueError):
    """A network has no edges usable by the requested travel mode."""


class OfflineError(NetworkError, ConnectionError):
    """A download was needed but no server answered (and nothing was cached)."""


class ConfigError(CoverageToolError, ValueError):
    """A run configuration (TOML file or arguments) is invalid."""


class SolverError(CoverageToolError, RuntimeError):
    """An optimisation model could not be built or solved."""


class UsageError(ConfigError):
    """A command-line argument cannot be used (the CLI exits with code 2)."""


#: Longest detail of an unexpected error kept in the one-line message (the log has all of it).
_MAX_DETAIL = 300


def is_expected(exc: BaseException) -> bool:
    """Whether ``exc`` is a problem of the input or the machine rather than a bug of ours.

    Our own errors, files that cannot be read or written, a full disk or memory and a missing
    package are expected: their message tells the planner what to fix. Anything else is a bug.
    """
    return isinstance(exc, CoverageToolError | OSError | MemoryError | ImportError)


def one_line(exc: BaseException, *, lang: str = "en") -> str:
    """The message a planner sees for ``exc``: one line, what failed, which input, how to fix.

    Used by the CLI (stderr) and the app (``ui/errors.py``) alike; the traceback goes to a log.

    Parameters
    ----------
    exc
        Any exception.
    lang
        ``"en"`` (the CLI, logs) or ``"zh"``.

    Returns
    -------
    str
        A single line (no line breaks).
    """
    if isinstance(exc, CoverageToolError):
        text = exc.text(lang) or type(exc).__name__
    elif isinstance(exc, ImportError):
        text = msg("geo.errors.missing_package", name=exc.name or str(exc)).text(lang)
    elif isinstance(exc, MemoryError):
        text = msg("geo.errors.out_of_memory").text(lang)
    elif isinstance(exc, OSError):
        where = f" {str(exc.filename)!r}" if exc.filename is not None else ""
        reason = exc.strerror or str(exc) or type(exc).__name__
        text = msg("geo.errors.os_error", where=where, reason=reason).text(lang)
    else:
        detail = str(exc)
        if len(detail) > _MAX_DETAIL:
            detail = detail[:_MAX_DETAIL] + "…"
        text = msg("geo.errors.internal", kind=type(exc).__name__, detail=detail).text(lang)
    return " ".join(text.split())
