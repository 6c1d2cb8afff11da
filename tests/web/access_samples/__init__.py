"""Example URL arguments for the access-matrix walk, one module per domain.

Each module here defines ``SAMPLE_ARGS = {endpoint: dict or callable}``; a
callable is called with no arguments inside the app context (after the demo is
seeded) and returns the URL arguments, so samples can look up demo objects.
"""

import importlib
import pkgutil
from pathlib import Path


def all_samples() -> dict:
    merged = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        module = importlib.import_module(f"{__name__}.{info.name}")
        merged.update(getattr(module, "SAMPLE_ARGS", {}))
    return merged
