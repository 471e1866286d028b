"""BSRNN (band-split RNN, an extra registry model): shapes, reload, gradients, scale equivariance, the band
split, the registry and training CLI entries, a short Trainer run, and the param / MAC pins."""
import pytest
import torch

from _model_checks import (check_estimates_scale_with_the_mixture, check_gradients_reach_every_parameter,
                           check_output_shape, check_state_dict_round_trip)
from _tiny_helpers import make_tiny_dataset
from mtass_lite.models import ALL_MODELS, EXTRA_MODELS, MODEL_NAMES, build_model, model_config
from mtass_lite.models.bsrnn import CONFIGS, LITE_BANDS, PAPER_BANDS, band_edges
from mtass_lite.profile import count_params, macs_per_second
from mtass_lite.stft import stft

# 33 bins of 250 Hz: bands of 2 bins to 2 kHz, of 8 bins to 8 kHz (+ the Nyquist bin) -> 4 + 3 bands
TINY = dict(n_fft=64, hop=32, bands=((2000, 500), (8000, 2000)), N=8, hidden=4, n_layers=2, mlp_ratio=2)


def tiny(**kw):
    torch.manual_seed(0)
    return build_model("bsrnn", "lite", **{**TINY, **kw})


def widths(edges):
    return [b - a for a, b in zip(edges, edges[1:])]


@pytest.mark.parametrize("length", [16001, 12345, 8, 3])
def test_output_shape_and_length(length):
    check_output_shape(tiny(), length)


def test_lite_model_handles_a_clip_shorter_than_one_frame():
    check_output_shape(build_model("bsrnn", "lite"), 3, batch=1)


def test_state_dict_round_trip_gives_identical_outputs():
    check_state_dict_round_trip(tiny())


def test_gradients_reach_every_parameter():
    check_gradients_reach_every_parameter(tiny())


def test_estimates_scale_with_the_mixture():
    # the mixture is normalised by its RMS and the estimates scaled back: a louder input, louder output
    check_estimates_scale_with_the_mixture(tiny())


@pytest.mark.parametrize("n_fft", [64, 320, 512, 1024, 2048])
@pytest.mark.parametrize("bands", [PAPER_BANDS, LITE_BANDS, TINY["bands"], ((4000, 300),)])
def test_band_edges_cover_every_bin_once_with_non_decreasing_widths(n_fft, bands):
    edges = band_edges(n_fft, 16000, bands)
    assert edges[0] == 0 and edges[-1] == n_fft // 2 + 1  # bins 0..n_fft/2, each in one band
    assert all(w >= 1 for w in widths(edges))  # strictly increasing edges: no bin twice, none skipped
    assert widths(edges) == sorted(widths(edges))


def test_band_edges_of_the_presets():
    # BSRNN's 100 / 250 / 500 Hz bands below 8 kHz at 31.25 Hz per bin: 3, 8, 16 bins; the 3 bins next to
    # Nyquist join the last band
    assert widths(band_edges(512, 16000, PAPER_BANDS)) == [3] * 10 + [8] * 12 + [16] * 7 + [19]
    assert widths(band_edges(512, 16000, LITE_BANDS)) == [6] * 5 + [16] * 6 + [32] * 3 + [35]
    assert widths(band_edges(64, 16000, TINY["bands"])) == [2] * 4 + [8] * 2 + [9]
    # bands that stop below Nyquist leave one wide band on top
    assert band_edges(512, 16000, ((1000, 250),)) == [0, 8, 16, 24, 32, 257]


@pytest.mark.parametrize("bad", [((1000, 250), (4000, 100)), ((4000, 250), (1000, 500)), ((1000, 0),)])
def test_band_edges_reject_decreasing_widths_or_edges(bad):
    with pytest.raises(ValueError):
        band_edges(512, 16000, bad)


def test_band_split_reads_every_bin_and_masks_act_on_the_mixture():
    model = tiny().eval()
    assert model.n_bands == 7
    assert sum(band[1].in_features for band in model.band_split.bands) == 2 * 33  # [Re; Im] of every bin
    x = torch.randn(2, 2000)
    X = stft(x, 64, 32)
    assert model.masks(X).shape == (2, 3, 33, X.shape[-1])
    with torch.no_grad():  # masks of exactly 1 (GLU output = value * sigmoid(gate)): each track = mixture
        for head in model.mask.bands:
            out = head[3]
            out.weight.zero_()
            half = out.bias.shape[0] // 2
            out.bias[:half] = torch.tensor([1.0, 0.0]).repeat(half // 2)  # Re 1, Im 0 in (S, w, 2) order
            out.bias[half:] = 50.0  # sigmoid(gate) = 1
        est = model(x)
    torch.testing.assert_close(est, x.unsqueeze(1).expand(-1, 3, -1), rtol=1e-4, atol=1e-5)


def test_registry_keeps_the_five_and_adds_bsrnn():
    assert "bsrnn" not in MODEL_NAMES and len(MODEL_NAMES) == 5
    assert EXTRA_MODELS == ("bsrnn",) and ALL_MODELS == MODEL_NAMES + EXTRA_MODELS
    model = build_model("bsrnn")
    assert model.mtass_name == "bsrnn" and model.mtass_size == "lite"
    assert model_config("bsrnn", "paper") == CONFIGS["paper"]
    with pytest.raises(ValueError, match="unknown model"):
        build_model("bsrnn2")


def test_presets_and_the_shipped_recipe_load():
    from mtass_lite import REPO_ROOT
    from mtass_lite.train import load_config

    cfg = load_config("bsrnn", "fast")
    assert cfg.model == "bsrnn" and cfg.size == "lite" and cfg.loss == "snr" and cfg.lr == 1e-3
    assert cfg.max_minutes is not None
    full = load_config("bsrnn", "full")
    assert full.size == "paper" and full.max_minutes is None
    recipe = load_config(None, None, REPO_ROOT / "mtass_lite" / "configs" / "shipped" / "bsrnn_real.yaml")
    assert recipe.model == "bsrnn" and recipe.size == "lite" and recipe.augment == "remix"
    assert recipe.out_dir == "runs/shipped/bsrnn_real" and recipe.max_minutes is None


def test_three_trainer_steps_then_the_checkpoint_separates(tmp_path):
    from mtass_lite.separate import resolve_model, separate_array
    from mtass_lite.train import TrainConfig, Trainer

    data = make_tiny_dataset(tmp_path / "data", n_train=4, n_dev=1, n_test=1)
    model = tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cfg = TrainConfig(segment=0.25, batch_size=2, max_steps=3, valid_every=3, valid_items=1, loss="snr",
                      lr=3e-3, seed=3, out_dir=str(tmp_path / "run"), progress=False)
    res = Trainer(model, data, cfg).fit()
    assert res["last_step"] == 3 and res["best_valid_sdri"] is not None
    assert any(not torch.equal(before[k], v) for k, v in model.state_dict().items())  # it trained
    again = resolve_model(checkpoint=res["best_checkpoint"], device="cpu")  # `separate --checkpoint`
    assert again.mtass_name == "bsrnn" and again.mtass_config["N"] == TINY["N"]
    x = torch.randn(5000) * 0.1
    out = separate_array(again, x, chunk_seconds=0.2, overlap=0.05)
    assert out.shape == (3, 5000)


def test_lite_is_small_and_paper_is_bsrnns_size():
    assert count_params(build_model("bsrnn", "lite")) == 957_856  # <= 1.5 M: two CPU cores
    assert count_params(build_model("bsrnn", "paper")) == 24_196_624  # no forward: cheap


def _analytic_macs_per_second(cfg) -> float:
    """What the architecture costs per second of 16 kHz audio (bias additions and element-wise ops not
    counted): band split, 2 n_layers BLSTMs + their Linear over K x T positions, the mask MLPs."""
    n_bins, K = cfg["n_fft"] // 2 + 1, len(band_edges(cfg["n_fft"], 16000, cfg["bands"])) - 1
    N, H, r, S = cfg["N"], cfg["hidden"], cfg["mlp_ratio"], 3
    frames = 16000 // cfg["hop"] + 1
    per_frame = (2 * n_bins * N  # band split: [Re; Im] of every bin -> N per band
                 + cfg["n_layers"] * 2 * K * (2 * 4 * H * (N + H) + 2 * H * N)  # time and band BLSTMs + FC
                 + K * N * r * N + r * N * 2 * 2 * n_bins * S)  # mask MLPs (hidden, then GLU input)
    return frames * per_frame


def test_lite_macs_per_second():
    cfg = CONFIGS["lite"]
    macs = macs_per_second(build_model("bsrnn", "lite"), seconds=1.0)
    assert macs == pytest.approx(_analytic_macs_per_second(cfg), rel=1e-6)  # the LSTMs counted analytically
    assert macs == pytest.approx(0.22562e9, rel=1e-3)  # measured: 63 frames per second, 15 bands


def test_paper_macs_follow_the_same_formula():
    # the paper size's forward pass is too slow for a unit test; the formula checked above gives its cost
    assert _analytic_macs_per_second(CONFIGS["paper"]) == pytest.approx(77.75e9, rel=1e-3)
