"""connectorkit: build, validate, run and ship Power Platform custom connectors without the portal."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("connectorkit")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
