"""mtass_lite.profile: parameter count, MAC count (incl. hand-counted LSTMs), RTF, CLI table."""
import json

import pytest
import torch
from torch import nn

from mtass_lite.profile import PAPER_TABLE, _rnn_macs, count_params, macs_per_second, main, real_time_factor


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


def test_main_prints_a_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "profile.json"
    rows = main(["--models", "conv_tasnet", "--sizes", "lite", "--rtf-seconds", "0.5", "--repeats", "1",
                 "--out", str(out)])
    text = capsys.readouterr().out
    assert "conv_tasnet" in text and "GMAC/s" in text
    saved = json.loads(out.read_text())
    assert saved["errors"] == [] and saved["models"] == json.loads(json.dumps(rows))
    (row,) = saved["models"]
    assert row["params"] > 0 and row["macs_per_second"] > 0 and row["rtf"] > 0


def test_a_broken_model_is_reported_not_fatal(tmp_path, monkeypatch):
    import mtass_lite.profile as profile

    def broken(name, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(profile, "profile_model", broken)
    rows = main(["--models", "gcrn", "--sizes", "lite", "--out", str(tmp_path / "p.json")])
    assert rows == [{"model": "gcrn", "size": "lite", "error": "RuntimeError: boom"}]
    assert json.loads((tmp_path / "p.json").read_text())["models"] == []
