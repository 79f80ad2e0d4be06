"""Storage kinds (skyscript_viz.storage): one class per kind decides fingerprints, listing and reads."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import get_args

import pytest

from skyscript_viz import ImageStore
from skyscript_viz.discovery import PartStore
from skyscript_viz.storage import NO_FILE, STORAGES, FolderStorage, StoreKind, ZipStorage, storage_kind


def test_every_kind_has_one_storage_class() -> None:
    assert sorted(STORAGES) == sorted(get_args(StoreKind))
    assert all(storage_kind(k).kind == k for k in STORAGES)
    with pytest.raises(KeyError):
        storage_kind(NO_FILE)


def test_inside_root(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "images2").mkdir(parents=True)
    store = FolderStorage(root)
    assert store.inside_root("images2/good.jpg") == root.resolve() / "images2" / "good.jpg"
    assert store.inside_root("outside.jpg") == root.resolve() / "outside.jpg"
    assert store.inside_root("images2/../outside.jpg") == root.resolve() / "outside.jpg"
    for rel in ("..", "../secret.jpg", "images2/../../secret.jpg", "/etc/passwd"):
        with pytest.raises(PermissionError):
            store.inside_root(rel)


def test_folder_fingerprint_changes_with_its_files(tmp_path: Path) -> None:
    part = tmp_path / "images2"
    part.mkdir()
    (part / "a.jpg").write_bytes(b"1")
    before = PartStore("folder", part).fingerprint()
    assert PartStore("folder", part).fingerprint() == before
    (part / "b.jpg").write_bytes(b"22")
    assert PartStore("folder", part).fingerprint() != before


def test_zip_fingerprint_changes_with_the_zip(tmp_path: Path) -> None:
    path = tmp_path / "images2.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.jpg", b"1")
    before = PartStore("zip", path).fingerprint()
    with zipfile.ZipFile(path, "a") as z:
        z.writestr("b.jpg", b"22")
    assert PartStore("zip", path).fingerprint() != before
    assert ZipStorage.cached_names(path) is None and FolderStorage.cached_names(tmp_path) is None


def test_each_kind_reads_its_own_rows(tmp_path: Path) -> None:
    (tmp_path / "images2").mkdir()
    (tmp_path / "images2" / "a.jpg").write_bytes(b"folder bytes")
    with zipfile.ZipFile(tmp_path / "images3.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("images3/a.jpg", b"zip bytes " * 50)
    store = ImageStore(tmp_path)
    folder = {"filepath": "images2/a.jpg", "storage": "folder", "container": "images2", "member": "a.jpg"}
    in_zip = {"filepath": "images3/a.jpg", "storage": "zip", "container": "images3.zip", "member": "images3/a.jpg"}
    assert store.read_bytes(folder) == b"folder bytes"
    assert store.read_bytes(in_zip) == b"zip bytes " * 50  # an older index: no byte location, the directory
    for bad in ({**folder, "storage": NO_FILE}, {**folder, "storage": "tape"}, {**folder, "member": None}):
        with pytest.raises(FileNotFoundError, match="no image file"):
            store.read_bytes(bad)
    store.close()


@pytest.mark.skipif(os.name != "posix", reason="symlinks")
def test_a_folder_read_never_leaves_the_root(tmp_path: Path) -> None:
    (tmp_path / "secret.jpg").write_bytes(b"secret")
    root = tmp_path / "root"
    (root / "images2").mkdir(parents=True)
    with pytest.raises(PermissionError):
        FolderStorage(root).read("images2", "../../secret.jpg", {})
