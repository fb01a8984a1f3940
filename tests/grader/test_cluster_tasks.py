"""What a cluster task carries: the lab as bytes, a submission without the client's paths, a name that says what it computes."""
from __future__ import annotations

import pickle
from pathlib import Path

from coursetool.grade.course.cluster import LabBundle, Task, task_key
from coursetool.grade.settings import Settings
from coursetool.grade.intake.submissions import Submission


def autograder_folder(root: Path) -> Settings:
    settings = Settings(lab="lab9", autograder=root / "autograder")
    settings.source_dir.mkdir(parents=True)
    settings.source_notebook.write_text('{"cells": []}')
    (settings.source_dir / "data").mkdir()
    (settings.source_dir / "data" / "table.csv").write_bytes(b"x,y\n1,2\n")
    (settings.source_dir / ".ipynb_checkpoints").mkdir()
    (settings.source_dir / ".ipynb_checkpoints" / "lab9-checkpoint.ipynb").write_text("{}")
    (settings.autograder / "nbgrader_config.py").write_text("c = get_config()\n")
    (settings.autograder / "gradebook.db").write_bytes(b"not for workers")
    return settings


def test_the_lab_travels_as_its_source_folder_and_course_config(tmp_path: Path) -> None:
    settings = autograder_folder(tmp_path / "client")
    bundle = pickle.loads(pickle.dumps(LabBundle.read(settings)))
    assert sorted(bundle.files) == ["nbgrader_config.py", "source/lab9/data/table.csv", "source/lab9/lab9.ipynb"]
    bundle.write(tmp_path / "worker" / "autograder")
    for name, data in bundle.files.items():
        assert (tmp_path / "worker" / "autograder" / name).read_bytes() == data == (settings.autograder / name).read_bytes()


def test_the_lab_digest_changes_with_any_file(tmp_path: Path) -> None:
    settings = autograder_folder(tmp_path)
    before = LabBundle.read(settings).digest
    assert LabBundle.read(settings).digest == before
    (settings.source_dir / "data" / "table.csv").write_bytes(b"x,y\n1,3\n")
    assert LabBundle.read(settings).digest != before


def test_a_task_carries_the_notebook_bytes_and_no_client_path(tmp_path: Path) -> None:
    notebook = tmp_path / "alice" / "lab9.ipynb"
    notebook.parent.mkdir()
    notebook.write_bytes(b'{"cells": [1]}')
    task = Task.of(Submission("alice", notebook, note="graded the notebook named 'x.ipynb'"))
    assert task.content == b'{"cells": [1]}' and task.submission.notebook is None
    assert task.submission.student == "alice" and task.submission.note == "graded the notebook named 'x.ipynb'"
    nothing = Task.of(Submission("bob", problem="no notebook in the submission"))
    assert nothing.content is None and nothing.submission.problem == "no notebook in the submission"


def test_a_task_is_named_after_the_student_the_notebook_and_the_settings(tmp_path: Path) -> None:
    first, second = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    first.write_bytes(b"1")
    second.write_bytes(b"2")
    key = task_key(Submission("alice", first), "settings-1")
    assert task_key(Submission("alice", first), "settings-1") == key
    assert len({key, task_key(Submission("alice", second), "settings-1"), task_key(Submission("bob", first), "settings-1"),
                task_key(Submission("alice", first), "settings-2")}) == 4
