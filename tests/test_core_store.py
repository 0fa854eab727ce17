import logging
import multiprocessing as mp

import pytest

from core.errors import DataError
from core.store import JsonlStore, read_jsonl, write_atomic
from core.trajectory import Trajectory


def _traj(i: int, trial: int = 0) -> Trajectory:
    return Trajectory(task_id=f"t{i}", trial=trial)


def test_append_and_resume_by_key(tmp_path):
    store = JsonlStore(tmp_path / "t.jsonl", Trajectory)
    for i in range(3):
        store.append(_traj(i))
    assert store.keys() == {"t0#0", "t1#0", "t2#0"}
    assert [t.task_id for t in store] == ["t0", "t1", "t2"]


def test_torn_last_line_is_ignored_then_cut(tmp_path, caplog):
    path = tmp_path / "t.jsonl"
    store = JsonlStore(path, Trajectory)
    store.append(_traj(0))
    with open(path, "ab") as f:  # a writer killed half-way through a record
        f.write(_traj(1).model_dump_json().encode()[:25])
    with caplog.at_level(logging.WARNING):
        assert store.keys() == {"t0#0"}
    assert "unterminated last line" in caplog.text
    store.append(_traj(2))
    assert store.keys() == {"t0#0", "t2#0"}
    assert path.read_text().count("\n") == 2


def test_corrupt_line_reported_with_file_and_line(tmp_path, caplog):
    path = tmp_path / "t.jsonl"
    store = JsonlStore(path, Trajectory)
    store.append(_traj(0))
    with open(path, "a") as f:
        f.write('{"task_id": 5, "trial": "x"}\n')
    store.append(_traj(1))
    with caplog.at_level(logging.WARNING):
        assert store.keys() == {"t0#0", "t1#0"}
    assert f"{path}:2: corrupt record" in caplog.text
    with pytest.raises(DataError, match=r"t.jsonl:2: corrupt record"):
        list(store.read(strict=True))


def _writer(path: str, start: int) -> None:
    store = JsonlStore(path, Trajectory)
    for i in range(start, start + 50):
        store.append(_traj(i))


def test_concurrent_writers_never_interleave(tmp_path):
    path = str(tmp_path / "t.jsonl")
    procs = [mp.get_context("fork").Process(target=_writer, args=(path, k * 1000)) for k in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert len(JsonlStore(path, Trajectory).keys()) == 200


def test_write_atomic_replaces_whole_file(tmp_path):
    path = tmp_path / "a" / "f.txt"
    write_atomic(path, "one")
    write_atomic(path, "two")
    assert path.read_text() == "two"
    assert [p.name for p in path.parent.iterdir()] == ["f.txt"]


def test_read_jsonl_names_bad_line(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"a": 1}\n\n[1, 2]\n')
    with pytest.raises(DataError, match=r"q.jsonl:3: expected a JSON object"):
        list(read_jsonl(path))
