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


def test_check_committed_passes_equal_results_and_ignores_timings(tmp_path, monkeypatch):
    from mtass_lite.results import check_committed, write_json

    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path))
    assert "no committed result yet" in check_committed("r", {"sdri": 1.0})
    write_json("r", {"summary": {"sdri": {"speech": {"mean": 5.0}}}, "train_seconds": 10.0, "note": "x"})
    msg = check_committed("r", {"summary": {"sdri": {"speech": {"mean": 5.1}}}, "train_seconds": 99.0})
    assert msg == "r.json: every number matches the committed result within ±0.2"


def test_check_committed_fails_when_a_result_moves(tmp_path, monkeypatch):
    import numpy as np
    import pytest

    from mtass_lite.results import ResultMoved, check_committed, write_json

    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path))
    write_json("r", {"summary": {"sdri": {"speech": {"mean": 5.0}, "music": {"mean": 3.0}}}, "steps": 500})
    with pytest.raises(ResultMoved, match=r"summary/sdri/music/mean: 3.000 -> 2.500.*delete r.json"):
        check_committed("r", {"summary": {"sdri": {"speech": {"mean": np.float32(5.0)}, "music": {"mean": 2.5}}},
                              "steps": 500})
    with pytest.raises(ResultMoved, match="steps"):
        check_committed("r", {"summary": {"sdri": {"speech": {"mean": 5.0}, "music": {"mean": 3.0}}}, "steps": 300})


def test_check_committed_allows_per_mixture_numbers_the_cross_cpu_tolerance_only(tmp_path, monkeypatch):
    import pytest

    from mtass_lite.results import ITEM_TOLERANCE_DB, ResultMoved, check_committed, write_json

    monkeypatch.setenv("MTASS_RESULTS_DIR", str(tmp_path))
    write_json("r", {"items": [{"sdri": 4.0}, {"sdri": 6.0}], "summary": {"sdri": 5.0}})
    # one mixture moves 0.6 dB, the mean stays: passes
    assert "every number matches" in check_committed("r", {"items": [{"sdri": 4.6}, {"sdri": 5.6}],
                                                           "summary": {"sdri": 5.1}})
    with pytest.raises(ResultMoved, match="items/0/sdri"):  # a mixture beyond the per-mixture tolerance
        check_committed("r", {"items": [{"sdri": 4.0 + ITEM_TOLERANCE_DB + 0.1}, {"sdri": 6.0}],
                              "summary": {"sdri": 5.0}})
    with pytest.raises(ResultMoved, match="summary/sdri"):  # the mean keeps the tight tolerance
        check_committed("r", {"items": [{"sdri": 4.3}, {"sdri": 6.3}], "summary": {"sdri": 5.3}})
