"""Finding each student's notebook in LMS layouts, zips and odd file names (no kernels)."""
from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from coursetool.grade.intake.discovery import discover
from coursetool.grade.intake.submissions import MAX_MEMBER_BYTES, SubmissionsError, clean_id, id_from_filename


def touch(path: Path, text: str = "{}") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def students(submissions) -> dict[str, str]:
    return {s.student: (s.notebook.name if s.notebook else f"problem: {s.problem}") for s in submissions}


def test_one_folder_per_student_with_moodle_suffix(tmp_path: Path) -> None:
    touch(tmp_path / "class" / "Ada Lovelace_123_assignsubmission_file_" / "lab1.ipynb")
    touch(tmp_path / "class" / "bob" / "notes.txt")
    found = students(discover(tmp_path / "class", "lab1", tmp_path / "staging"))
    assert found == {"Ada_Lovelace_123": "lab1.ipynb", "bob": "problem: no notebook in the submission (found: notes.txt)"}


def test_flat_files_with_the_student_id_in_the_name(tmp_path: Path) -> None:
    touch(tmp_path / "class" / "alice_lab1.ipynb")
    touch(tmp_path / "class" / "lab1-carol.ipynb")
    touch(tmp_path / "class" / "doejane_late_4411_9876_lab1.ipynb")
    found = students(discover(tmp_path / "class", "lab1", tmp_path / "staging"))
    assert set(found) == {"alice", "carol", "doejane_4411"}


def test_a_zip_of_the_class_and_a_students_own_zips(tmp_path: Path) -> None:
    archive = tmp_path / "class.zip"
    inner = tmp_path / "dave.zip"
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("work/lab1.ipynb", "{}")
    empty = tmp_path / "empty.zip"
    zipfile.ZipFile(empty, "w").close()
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("submissions/erin/lab1.ipynb", "{}")
        z.write(inner, "submissions/dave/dave.zip")
        z.write(empty, "submissions/fay/lab1.zip")
        z.writestr("submissions/gus/Untitled.ipynb", "{}")
    found = {s.student: s for s in discover(archive, "lab1", tmp_path / "staging")}
    assert sorted(found) == ["dave", "erin", "fay", "gus"]
    assert found["dave"].notebook.name == "lab1.ipynb"
    assert found["fay"].problem == "empty zip archive 'lab1.zip'"
    assert "Untitled.ipynb" in found["gus"].note


def test_names_that_are_not_utf8(tmp_path: Path) -> None:
    root = tmp_path / "class"
    root.mkdir()
    os.mkdir(os.fsencode(root) + b"/ren\xe9e")
    touch(Path(os.fsdecode(os.fsencode(root) + b"/ren\xe9e/lab1.ipynb")))
    (submission,) = discover(root, "lab1", tmp_path / "staging")
    assert submission.student.startswith("ren_e-") and submission.notebook is not None
    assert "not a plain file name" in submission.note
    assert clean_id("a/b\\c d") == "a_b_c_d"
    assert id_from_filename("lab1.ipynb", "lab1") == "lab1"


def ids(root: Path, tmp_path: Path) -> dict[str, str]:
    """Folder or file name -> the student id it was given (one notebook per student)."""
    found = discover(root, "lab1", tmp_path / "staging")
    return {s.notebook.parent.name if s.notebook.parent != root else s.notebook.name: s.student for s in found}


def class_of(tmp_path: Path, *names: str) -> Path:
    root = tmp_path / "class"
    for name in names:
        touch(root / name / "lab1.ipynb")
    return root


def test_names_that_clean_alike_stay_apart_and_say_so(tmp_path: Path) -> None:
    submissions = discover(class_of(tmp_path, "Ana Lima", "Ana_Lima", "Ana-Lima"), "lab1", tmp_path / "staging")
    by_id = {s.student: s for s in submissions}
    assert len(by_id) == 3 and "Ana_Lima" in by_id and "Ana-Lima" in by_id
    (spaced,) = [s for s in submissions if s.student.startswith("Ana_Lima-")]
    assert "'Ana Lima'" in spaced.note and "not a plain file name" in spaced.note
    assert by_id["Ana_Lima"].note == "" and by_id["Ana_Lima"].id_note == ""


def test_an_id_depends_on_its_own_name_only(tmp_path: Path) -> None:
    alone = ids(class_of(tmp_path / "a", "Ana Lima", "bob"), tmp_path / "a")
    together = ids(class_of(tmp_path / "b", "Ana Lima", "Ana_Lima", "ana lima", "bob"), tmp_path / "b")
    as_zip = tmp_path / "class.zip"
    with zipfile.ZipFile(as_zip, "w") as z:
        z.writestr("Ana Lima/lab1.ipynb", "{}")
    zipped = {s.student for s in discover(as_zip, "lab1", tmp_path / "staging-zip")}
    assert alone["Ana Lima"] == together["Ana Lima"] and zipped == {alone["Ana Lima"]}
    assert alone["bob"] == together["bob"] == "bob"
    assert len(set(together.values())) == 4


def test_ids_that_differ_only_in_case_are_kept_apart_on_any_file_system(tmp_path: Path) -> None:
    found = ids(class_of(tmp_path, "Ana", "ana", "carl"), tmp_path)
    assert len({student.casefold() for student in found.values()}) == 3
    assert found["carl"] == "carl" and found["Ana"].startswith("Ana-") and found["ana"].startswith("ana-")
    notes = {s.student: s.id_note for s in discover(tmp_path / "class", "lab1", tmp_path / "staging")}
    assert "same id (up to case)" in notes[found["Ana"]]


def test_undecodable_and_unsafe_characters_never_merge_two_students(tmp_path: Path) -> None:
    root = tmp_path / "class"
    for raw in (b"ren\xe9e", b"ren\xe8e", b"ren_e", b"bob!", b"bob?"):
        os.makedirs(os.fsencode(root) + b"/" + raw)
        touch(Path(os.fsdecode(os.fsencode(root) + b"/" + raw + b"/lab1.ipynb")))
    found = discover(root, "lab1", tmp_path / "staging")
    assert len({s.student.casefold() for s in found}) == 5
    assert "ren_e" in {s.student for s in found}


def test_flat_files_of_one_student_merge_and_names_that_clean_alike_do_not(tmp_path: Path) -> None:
    root = tmp_path / "class"
    touch(root / "alice_lab1.ipynb")
    touch(root / "lab1-alice.ipynb")
    touch(root / "Ana Lima_lab1.ipynb")
    touch(root / "Ana_Lima_lab1.ipynb")
    touch(root / "smithalice_123_456_lab1.ipynb")
    touch(root / "smithalice_123_789_notes.txt")
    found = {s.student: s for s in discover(root, "lab1", tmp_path / "staging")}
    assert len(found) == 4 and "2 notebooks submitted" in found["alice"].note
    assert "smithalice_123" in found and "Ana_Lima" in found


def zipped(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def problems(path: Path, tmp_path: Path) -> dict[str, str | None]:
    return {s.student: s.problem for s in discover(path, "lab1", tmp_path / "staging")}


def test_a_too_large_archive_entry_is_named_with_its_size(tmp_path: Path) -> None:
    big = b"{" + b" " * (60 * 2**20 - 1)
    archive = zipped(tmp_path / "class.zip", {"eve/lab1.ipynb": big, "flat_lab1.ipynb": big})
    student_zip = zipped(tmp_path / "fay.zip", {"lab1.ipynb": big})
    folder = tmp_path / "class"
    touch(folder / "fay" / "placeholder.txt")
    student_zip.rename(folder / "fay" / "fay.zip")
    found = {**problems(archive, tmp_path / "a"), **problems(folder, tmp_path / "b")}
    names = {"eve": "eve/lab1.ipynb", "flat": "flat_lab1.ipynb", "fay": "lab1.ipynb"}
    for student, name in names.items():
        assert found[student] == f"the archive entry {name!r} is too large to grade (60.0 MB; the limit is 50.0 MB)"


def test_one_unreadable_entry_does_not_hide_a_good_notebook(tmp_path: Path) -> None:
    archive = zipped(tmp_path / "class.zip", {"gil/lab1.ipynb": b"{}", "gil/extra.ipynb": b"{" + b" " * (MAX_MEMBER_BYTES + 1),
                                              "ham/lab1.ipynb": b"{}"})
    submission = discover(archive, "lab1", tmp_path / "staging")[0]
    assert submission.notebook is not None and submission.notebook.name == "lab1.ipynb"
    assert "'gil/extra.ipynb' is too large" in submission.note


def test_an_empty_notebook_file_is_called_empty(tmp_path: Path) -> None:
    touch(tmp_path / "class" / "hal" / "lab1.ipynb", "")
    touch(tmp_path / "class" / "ida" / "lab1.ipynb", "")
    touch(tmp_path / "class" / "ida" / "lab1 (2).ipynb")
    found = {s.student: s for s in discover(tmp_path / "class", "lab1", tmp_path / "staging")}
    assert found["hal"].problem == "the notebook 'lab1.ipynb' is an empty file (0 bytes)"
    assert found["ida"].notebook.name == "lab1 (2).ipynb"


def test_a_damaged_entry_and_a_zip_of_junk_say_what_they_are(tmp_path: Path) -> None:
    damaged = bytearray(zipped(tmp_path / "jo.zip", {"lab1.ipynb": b'{"cells": []}' * 50}).read_bytes())
    damaged[40:60] = b"\0" * 20  # inside the compressed data of the only entry
    folder = tmp_path / "class"
    (folder / "jo").mkdir(parents=True)
    (folder / "jo" / "jo.zip").write_bytes(bytes(damaged))
    (folder / "kim").mkdir()
    zipped(folder / "kim" / "kim.zip", {"__MACOSX/._lab1.ipynb": b"x", ".DS_Store": b"x"})
    found = problems(folder, tmp_path)
    assert found["jo"].startswith("the archive entry 'lab1.ipynb' is damaged (")
    assert found["kim"] == "no notebook in zip archive 'kim.zip'"


@pytest.mark.skipif(shutil.which("zip") is None, reason="the zip program makes the encrypted archive")
def test_an_encrypted_entry_is_called_encrypted(tmp_path: Path) -> None:
    touch(tmp_path / "work" / "lab1.ipynb")
    folder = tmp_path / "class" / "lee"
    folder.mkdir(parents=True)
    subprocess.run(["zip", "-q", "-P", "secret", str(folder / "lee.zip"), "lab1.ipynb"], cwd=tmp_path / "work", check=True)
    assert "'lab1.ipynb' is encrypted" in problems(tmp_path / "class", tmp_path)["lee"]


def test_submissions_that_are_neither_a_folder_nor_a_zip_are_refused(tmp_path: Path) -> None:
    single = touch(tmp_path / "alice_lab1.ipynb")
    with pytest.raises(SubmissionsError, match="neither a folder nor a readable zip"):
        discover(single, "lab1", tmp_path / "staging")


def test_a_too_large_notebook_in_a_folder_is_named_with_its_size(tmp_path: Path) -> None:
    huge = tmp_path / "class" / "max" / "lab1.ipynb"
    huge.parent.mkdir(parents=True)
    with open(huge, "wb") as f:
        f.truncate(60 * 2**20)  # sparse: no disk space used
    (submission,) = discover(tmp_path / "class", "lab1", tmp_path / "staging")
    assert submission.problem == "the notebook 'lab1.ipynb' is too large to grade (60.0 MB; the limit is 50.0 MB)"
