"""mtass_lite.results: JSON-safe writing, and locked read-modify-write from parallel processes."""
import math
import multiprocessing as mp

import numpy as np

from mtass_lite.results import read_json, update_json, write_json


def test_write_json_cleans_numpy_and_non_finite(tmp_path):
    p = write_json(tmp_path / "r.json", {"a": np.float32(1.5), "b": [np.int64(2), float("nan")], 3: math.inf})
    assert read_json(p) == {"a": 1.5, "b": [2, None], "3": None}


def _add_row(path, k):
    update_json(path, lambda d: d.setdefault("rows", {}).update({str(k): k}))


def test_update_json_from_parallel_processes_loses_nothing(tmp_path):
    path = tmp_path / "shared.json"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_add_row, args=(path, k)) for k in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert read_json(path)["rows"] == {str(k): k for k in range(8)}
    update_json(path, lambda d: d.update(note="x"))  # edits keep what was there
    assert read_json(path)["note"] == "x" and len(read_json(path)["rows"]) == 8
