"""Loads the tools under test by their paths: they are scripts and plugins, not packages."""

import importlib.util
import sys
from pathlib import Path

TOOLS = Path(__file__).resolve().parents[3] / "tools"


def load_tool(name, relative_path):
    """The module at tools/relative_path, under name in sys.modules (loaded once for all tests)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, TOOLS / relative_path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
