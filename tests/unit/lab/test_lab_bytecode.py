"""The lab guests' bytecode cache for AnsiballZ zips: same code, compiled once."""

import importlib.util
import os
import zipfile
import zipimport

import pytest

GUEST_MODULE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))),
                            "lab", "guest", "usr", "lib", "python3", "dist-packages", "nvmeof_lab_bytecode.py")
SOURCE = "ANSWER = 6 * 7\n\ndef where():\n    return where.__code__.co_filename\n"


@pytest.fixture
def bytecode(tmp_path, monkeypatch):
    """The cache module loaded with its cache in tmp_path, zipimport given back afterwards."""
    monkeypatch.setattr(zipimport, "_compile_source", zipimport._compile_source)
    spec = importlib.util.spec_from_file_location("nvmeof_lab_bytecode_under_test", GUEST_MODULE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "CACHE_DIR", str(tmp_path / "cache"))
    compiled = []
    original = module._compile_source
    monkeypatch.setattr(module, "_compile_source", lambda path, source: compiled.append(path) or original(path, source))
    module.compiled = compiled
    return module


def _import_from_zip(directory, name, zip_name="ansible_ping_payload.zip"):
    """Imports module name from a new zip in directory, as AnsiballZ does; (module, zip path)."""
    directory.mkdir(exist_ok=True)
    archive = os.path.join(str(directory), zip_name)
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr(name + ".py", SOURCE)
    spec = zipimport.zipimporter(archive).find_spec(name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, archive


def test_a_second_payload_with_the_same_source_is_not_compiled_again(bytecode, tmp_path):
    first = _import_from_zip(tmp_path / "one", "lab_first")[0]
    second, archive = _import_from_zip(tmp_path / "two", "lab_second")
    assert (first.ANSWER, second.ANSWER) == (42, 42)
    assert len(bytecode.compiled) == 1
    assert len(os.listdir(bytecode.CACHE_DIR)) == 1
    # the cached code names the zip it was imported from this time, for tracebacks
    assert second.where() == os.path.join(archive, "lab_second.py")


def test_other_zips_are_compiled_as_always(bytecode, tmp_path):
    module = _import_from_zip(tmp_path, "lab_plain", zip_name="plain.zip")[0]
    assert module.ANSWER == 42
    # (zipimport of Python 3.11 compiles a module twice: for its file name, then to run it)
    assert set(bytecode.compiled) == {os.path.join(str(tmp_path), "plain.zip", "lab_plain.py")}
    assert not os.path.exists(bytecode.CACHE_DIR)


def test_an_unreadable_cache_entry_is_compiled_again(bytecode, tmp_path):
    os.makedirs(bytecode.CACHE_DIR)
    _import_from_zip(tmp_path / "one", "lab_broken")
    for name in os.listdir(bytecode.CACHE_DIR):
        with open(os.path.join(bytecode.CACHE_DIR, name), "wb") as handle:
            handle.write(b"not marshal data")
    module = _import_from_zip(tmp_path / "two", "lab_broken_again")[0]
    assert module.ANSWER == 42
    assert len(set(bytecode.compiled)) == 2
