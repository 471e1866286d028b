"""mtass_lite.profile: parameter count, MAC count (incl. hand-counted LSTMs), RTF, the busy-machine guard,
CLI table."""
import json

import pytest
import torch
from torch import nn

from mtass_lite.profile import (PAPER_TABLE, MachineBusy, TimingGuard, _rnn_macs, count_params, macs_per_second,
                                main, real_time_factor)


class _Frames(nn.Module):
    """[B, T] -> frames of 16 samples -> a layer (a stand-in model for the counters)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        y = self.layer(x.reshape(x.shape[0], -1, 16))
        return y[0] if isinstance(y, tuple) else y


def test_count_params_counts_trainable_only():
    m = nn.Sequential(nn.Linear(10, 5), nn.Linear(5, 2))  # 55 + 12
    assert count_params(m) == 67
    m[0].weight.requires_grad_(False)
    assert count_params(m) == 17


def test_macs_of_a_convolution_match_the_formula():
    conv = nn.Conv1d(1, 8, kernel_size=16, stride=8, bias=True)
    model = nn.Sequential(nn.Unflatten(1, (1, -1)), conv)
    frames = (1600 - 16) // 8 + 1
    assert macs_per_second(model, seconds=0.1) == pytest.approx(frames * 8 * 16 / 0.1)


@pytest.mark.parametrize("groups", [1, 2])
def test_transposed_conv_conventions(groups):
    # ConvTranspose1d(4 -> 6, K=8, S=4) on 1600 frames of 4 channels: the true count is one kernel per
    # *input* position, in * C_out * K / groups; thop's one kernel per *output* position, out * C_in * K / groups.
    deconv = nn.ConvTranspose1d(4, 6, kernel_size=8, stride=4, groups=groups)
    model = nn.Sequential(nn.Unflatten(1, (1, -1)), nn.Conv1d(1, 4, kernel_size=1), deconv)
    n_in, n_out = 1600, (1600 - 1) * 4 + 8
    pointwise = 1600 * 4 * 1
    true = pointwise + n_in * 4 * 6 * 8 // groups
    thop = pointwise + n_out * 6 * 4 * 8 // groups
    assert macs_per_second(model, seconds=0.1) == pytest.approx(true / 0.1)
    assert macs_per_second(model, seconds=0.1, convention="thop") == pytest.approx(thop / 0.1)
    assert thop - pointwise == pytest.approx(4 * (true - pointwise), rel=0.01)  # ~stride times more


def test_thop_convention_changes_nothing_without_transposed_convs():
    model = _Frames(nn.Linear(16, 8)).train()
    assert macs_per_second(model, 0.1, convention="thop") == macs_per_second(model, 0.1) == 100 * 16 * 8 / 0.1
    assert model.training  # the flag is restored
    with pytest.raises(ValueError, match="convention"):
        macs_per_second(model, 0.1, convention="fvcore")


@pytest.mark.parametrize("cls", [nn.LSTM, nn.GRU, nn.RNN])
def test_recurrent_layers_are_counted_once(cls):
    # GRU is seen by FlopCounterMode, LSTM is not (fused kernel) and is added by hand: both must give
    # the analytic count gates * H * (I + H) per step, layer and direction, never twice.
    rnn = cls(16, 32, num_layers=2, batch_first=True, bidirectional=True)
    gates = {nn.LSTM: 4, nn.GRU: 3, nn.RNN: 1}[cls]
    steps = 1600 // 16
    expected = steps * 2 * (gates * 32 * (16 + 32) + gates * 32 * (64 + 32))
    assert _rnn_macs(rnn, torch.zeros(1, steps, 16)) == expected
    assert macs_per_second(_Frames(rnn), seconds=0.1) == pytest.approx(expected / 0.1)


def test_lstm_projection_is_counted():
    rnn = nn.LSTM(16, 32, proj_size=8, batch_first=True)
    assert _rnn_macs(rnn, torch.zeros(2, 10, 16)) == 20 * (4 * 32 * (16 + 8) + 32 * 8)


def test_real_time_factor_is_positive_and_restores_training_flag():
    model = _Frames(nn.Linear(16, 16)).train()
    rtf = real_time_factor(model, seconds=0.1, repeats=2)
    assert 0 < rtf < 10
    assert model.training


def test_paper_table_has_every_model():
    from mtass_lite.models import MODEL_NAMES

    assert set(PAPER_TABLE) == set(MODEL_NAMES)
    assert PAPER_TABLE["conv_tasnet"]["params_m"] == 5.14
    assert PAPER_TABLE["complex_mtassnet"]["gmac_per_s"] == 1.8


def test_paper_table_agrees_with_the_results_file():
    from mtass_lite import REPO_ROOT

    path = REPO_ROOT / "results" / "paper_mtass.json"
    if not path.exists():
        pytest.skip("results/paper_mtass.json not in this checkout")
    stored = json.loads(path.read_text())["models"]
    for name, ref in PAPER_TABLE.items():
        assert ref == {k: stored[name][k] for k in ref}, name


def _seq(*values):
    """A stand-in clock / load average / reference: returns ``values`` in turn, then the last one forever."""
    it = iter(values)
    last = [values[-1]]

    def f():
        last[0] = next(it, last[0])
        return last[0]
    return f


def _guard(loads=(0.1,), refs=(0.010,), **kw):
    """A TimingGuard on a simulated 2-core machine timing with 2 threads: no real timing, no waiting."""
    pauses = []
    kw = {"cores": 2, "threads": 2, "retries": 2, "pause_s": 30.0, "reference_repeats": 1} | kw
    guard = TimingGuard(loadavg=lambda f=_seq(*loads): (f(), 0.0, 0.0), reference=_seq(*refs),
                        sleep=pauses.append, log=lambda msg: None, **kw)
    return guard, pauses


def test_real_time_factor_is_the_minimum_of_the_passes():
    # passes of 0.5, 0.2 and 0.3 s on 0.1 s of audio (timer: start/stop of each pass)
    clock = _seq(10.0, 10.5, 11.0, 11.2, 12.0, 12.3)
    rtf = real_time_factor(_Frames(nn.Linear(16, 16)), seconds=0.1, repeats=3, timer=clock)
    assert rtf == pytest.approx(2.0)


@pytest.mark.parametrize("cores, threads, limit", [(2, 2, 0.5), (2, 1, 1.5), (16, 2, 14.5)])
def test_load_limit_leaves_the_timing_threads_their_cores(cores, threads, limit):
    guard, _ = _guard(cores=cores, threads=threads)
    assert guard.max_load == limit
    assert guard.settings()["max_load_1min_during"] == limit + threads
    assert TimingGuard(max_load=3.0, cores=2, threads=2).max_load == 3.0  # an explicit limit wins


def test_start_waits_for_the_load_to_fall():
    guard, pauses = _guard(loads=(2.97, 0.9, 0.3))
    assert guard.start() == 0.3
    assert pauses == [30.0, 30.0] and guard.best_reference == 0.010


def test_start_refuses_a_busy_machine():
    guard, pauses = _guard(loads=(2.97,))
    with pytest.raises(MachineBusy, match=r"load average 2\.97 > 0\.5.*gave up after 3 tries"):
        guard.start()
    assert pauses == [30.0, 30.0]  # retries=2: three tries, two pauses


def test_reference_time_is_the_minimum_of_its_repeats():
    guard, _ = _guard(refs=(0.05, 0.01, 0.02, 0.04, 0.03, 0.06), reference_repeats=3)
    assert guard.reference_time() == 0.01
    assert guard.reference_time() == 0.03
    assert guard.best_reference == 0.01


def test_measure_on_a_quiet_machine_records_its_witnesses():
    guard, pauses = _guard(loads=(0.1, 2.1), refs=(0.010, 0.011, 0.012))
    guard.start()
    value, seen = guard.measure(lambda: "timed")
    assert value == "timed" and pauses == []
    # load 2.1 during the run is our own two threads: under the limit of 0.5 + 2
    assert seen == {"reference_s_before": 0.011, "reference_s_after": 0.012,
                    "reference_ratio": pytest.approx(1.2), "load_average_1min": 2.1, "attempts": 1}


def test_measure_retries_when_the_reference_slows_down():
    # best 10 ms at the start; another job takes a core: 25 ms (2.5x) after the first try; gone again later
    guard, pauses = _guard(refs=(0.010, 0.010, 0.025, 0.011, 0.010))
    guard.start()
    calls = []
    value, seen = guard.measure(lambda: calls.append(1) or len(calls))
    assert value == 2 and seen["attempts"] == 2 and pauses == [30.0]
    assert seen["reference_ratio"] == pytest.approx(1.1)


def test_measure_refuses_when_the_reference_stays_slow():
    guard, pauses = _guard(refs=(0.010, 0.030))
    guard.start()
    with pytest.raises(MachineBusy, match=r"gcrn lite: machine busy \(reference workload 3\.00x slower"):
        guard.measure(lambda: None, what="gcrn lite")
    assert len(pauses) == 2


def test_measure_refuses_a_load_above_our_own_threads():
    # a steady job that started after the start check: the reference cannot see it (it was there for the
    # best too, say), the load average can once it exceeds the start limit + our 2 threads
    guard, _ = _guard(loads=(0.2, 3.4))
    guard.start()
    with pytest.raises(MachineBusy, match=r"load average 3\.40 > 2\.5"):
        guard.measure(lambda: None)


def test_main_prints_a_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "profile.json"
    guard, _ = _guard(loads=(0.05, 1.8, 1.9), refs=(0.020,))
    rows = main(["--models", "conv_tasnet", "--sizes", "lite", "--rtf-seconds", "0.5", "--repeats", "2",
                 "--out", str(out)], guard=guard)
    text = capsys.readouterr().out
    assert "conv_tasnet" in text and "GMAC/s" in text and "ref ms" in text
    saved = json.loads(out.read_text())
    assert saved["errors"] == [] and saved["models"] == json.loads(json.dumps(rows))
    (row,) = saved["models"]
    assert row["params"] > 0 and row["macs_per_second"] > 0 and row["rtf"] > 0
    assert row["rtf"] <= row["rtf_median"] and row["rtf_estimator"] == "min" and row["rtf_repeats"] == 2
    assert row["reference_s_before"] == row["reference_s_after"] == 0.020 and row["reference_ratio"] == 1.0
    assert row["rtf_reference_units"] == pytest.approx(row["rtf"] / 0.020)
    assert row["load_average_1min"] == 1.8 and row["attempts"] == 1
    assert saved["load_average_1min"] == 0.05 and saved["load_average_1min_end"] == 1.9  # start, end
    assert saved["reference"]["best_s"] == 0.020 and saved["guard"]["max_reference_ratio"] == 1.5


def test_main_writes_nothing_on_a_busy_machine(tmp_path, capsys):
    out = tmp_path / "profile.json"
    guard, _ = _guard(loads=(2.97,))
    with pytest.raises(SystemExit) as e:
        main(["--models", "gcrn", "--sizes", "lite", "--out", str(out)], guard=guard)
    assert e.value.code == 2 and not out.exists()
    assert "machine busy" in capsys.readouterr().err


def test_busy_midway_is_not_a_model_error(tmp_path, monkeypatch):
    # the first model is timed on a quiet machine, the second one is not: no partial file, no "error" row
    import mtass_lite.profile as profile

    monkeypatch.setattr(profile, "_forward_seconds", lambda model, seconds, repeats: [0.01])
    out = tmp_path / "profile.json"
    guard, _ = _guard(refs=(0.010, 0.010, 0.010, 0.040), retries=1)
    with pytest.raises(SystemExit):
        main(["--models", "gcrn", "conv_tasnet", "--sizes", "lite", "--out", str(out)], guard=guard)
    assert not out.exists()


def test_a_broken_model_is_reported_not_fatal(tmp_path, monkeypatch):
    import mtass_lite.profile as profile

    def broken(name, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(profile, "profile_model", broken)
    rows = main(["--models", "gcrn", "--sizes", "lite", "--out", str(tmp_path / "p.json")], guard=_guard()[0])
    assert rows == [{"model": "gcrn", "size": "lite", "error": "RuntimeError: boom"}]
    assert json.loads((tmp_path / "p.json").read_text())["models"] == []
