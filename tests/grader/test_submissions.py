"""Finding each student's notebook in LMS layouts, zips and odd file names (no kernels)."""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

from coursetool.grade.submissions import clean_id, discover, id_from_filename


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
    assert submission.student == "ren_e" and submission.notebook is not None
    assert clean_id("a/b\\c d") == "a_b_c_d"
    assert id_from_filename("lab1.ipynb", "lab1") == "lab1"
