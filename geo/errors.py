"""Our exception classes.

Every message names the input (file, row, column or argument), says what was received and how to
fix it. Build them as ``msg = ...; raise X(msg)``. The app shows ``str(exc)`` to the planner and
never a traceback.
"""

from __future__ import annotations


class CoverageToolError(Exception):
    """Base class of every error this tool raises on purpose."""


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
