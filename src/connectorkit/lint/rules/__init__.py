"""The rules, one module per category. Importing this package registers every module in it."""

import importlib
import pkgutil

for _module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    importlib.import_module(f"{__name__}.{_module.name}")

# Breaking-change rules live beside the diff engine; import them so the registry is complete.
importlib.import_module("connectorkit.lint.diff")
