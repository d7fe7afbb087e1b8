import labimage
import pytest
from labcommon import LabError


def test_guest_sources_reuse_the_host_archive_and_add_backports(tmp_path):
    etc_apt = tmp_path / "apt"
    (etc_apt / "sources.list.d").mkdir(parents=True)
    (etc_apt / "sources.list.d/debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://archive.example/debian\n"
        "Suites: bookworm bookworm-updates\nComponents: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: http://archive.example/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n\n"
        "Types: deb-src\nURIs: http://archive.example/debian\nSuites: bookworm\n")
    dest = tmp_path / "guest.sources"
    labimage.write_sources(dest, etc_apt)
    text = dest.read_text()
    assert "Suites: bookworm bookworm-updates\n" in text
    assert "Suites: bookworm-security\n" in text
    assert "URIs: http://archive.example/debian\nSuites: bookworm-backports\n" in text
    assert "deb-src" not in text


def test_one_line_sources_work_too(tmp_path):
    etc_apt = tmp_path / "apt"
    etc_apt.mkdir()
    (etc_apt / "sources.list").write_text(
        "deb [arch=amd64] http://archive.example/debian bookworm main contrib\n"
        "deb http://archive.example/debian bookworm-backports main\n")
    dest = tmp_path / "guest.sources"
    labimage.write_sources(dest, etc_apt)
    assert dest.read_text().count("bookworm-backports") == 1
    assert "Components: main contrib" in dest.read_text()


def test_a_host_without_bookworm_sources_is_refused(tmp_path):
    (tmp_path / "apt").mkdir()
    with pytest.raises(LabError, match="no apt source for 'bookworm'"):
        labimage.write_sources(tmp_path / "out", tmp_path / "apt")


def test_recipe_digest_is_stable_and_follows_the_recipe(monkeypatch):
    first = labimage.recipe_digest()
    assert first == labimage.recipe_digest()
    monkeypatch.setattr(labimage, "PACKAGES", labimage.PACKAGES + ["tcpdump"])
    assert labimage.recipe_digest() != first


def test_recipe_digest_ignores_where_the_checkout_is(monkeypatch, tmp_path):
    first = labimage.recipe_digest()
    copy = tmp_path / "guest"
    import shutil
    shutil.copytree(labimage.GUEST_FILES, copy, symlinks=True)
    monkeypatch.setattr(labimage, "GUEST_FILES", copy)
    assert labimage.recipe_digest() == first
    (copy / "etc/network/interfaces").write_text("changed\n")
    assert labimage.recipe_digest() != first
