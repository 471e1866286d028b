"""mtass_lite.viz: the training-log figure (drawn off screen, its artists inspected)."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from mtass_lite.viz import plot_training_log  # noqa: E402

TRACKS = ("speech", "music", "noise")


@pytest.fixture
def log(tmp_path):
    """A Trainer-shaped log.csv: 10 steps, validation at steps 5 and 10."""
    steps = np.arange(1, 11)
    df = pd.DataFrame({"step": steps, "loss": -3.0 * steps,
                       **{f"loss_{t}": -float(k + 1) * steps for k, t in enumerate(TRACKS)},
                       "valid_sdri": np.where(steps % 5 == 0, 2.0, np.nan),
                       **{f"valid_sdri_{t}": np.where(steps % 5 == 0, steps / 5 + k, np.nan)
                          for k, t in enumerate(TRACKS)}})
    path = tmp_path / "log.csv"
    df.to_csv(path, index=False)
    return path


def test_plot_training_log_draws_rolling_loss_dev_sdri_and_baseline(log):
    base = {"speech": {"mean": 4.9, "ci95": 0.1}, "music": {"mean": 4.7}, "noise": {"mean": 4.6}}
    fig = plot_training_log(log, dev_baseline=base, window=4)
    ax1, ax2 = fig.axes
    assert ax1.get_ylabel() == "−SNR (dB), 4-step mean" and "mixture / 3" in ax2.get_title()
    # left: one line per track, the 4-step rolling mean of its loss column
    lines = ax1.get_lines()
    assert [ln.get_label() for ln in lines] == list(TRACKS)
    want = pd.Series(-2.0 * np.arange(1, 11)).rolling(4, min_periods=1).mean().to_numpy()
    np.testing.assert_allclose(lines[1].get_ydata(), want)
    # right: the validation rows only, then the dotted baseline, in the track's colour
    curves = [ln for ln in ax2.get_lines() if ln.get_linestyle() != ":"]
    dotted = [ln for ln in ax2.get_lines() if ln.get_linestyle() == ":"]
    np.testing.assert_allclose(curves[2].get_xdata(), [5, 10])
    np.testing.assert_allclose(curves[2].get_ydata(), [3.0, 4.0])
    assert [ln.get_ydata()[0] for ln in dotted] == [4.9, 4.7, 4.6]
    assert [ln.get_color() for ln in dotted] == [ln.get_color() for ln in curves]
    plt.close(fig)


def test_plot_training_log_takes_a_dataframe_and_plain_numbers(log):
    df = pd.read_csv(log)
    fig = plot_training_log(df, dev_baseline={"speech": 1.0, "music": 2.0, "noise": 3.0})
    assert [ln.get_ydata()[0] for ln in fig.axes[1].get_lines() if ln.get_linestyle() == ":"] == [1.0, 2.0, 3.0]
    plt.close(fig)
    fig = plot_training_log(df)  # no baseline: no dotted lines, a plain title
    assert fig.axes[1].get_title() == "dev SDRi"
    assert not [ln for ln in fig.axes[1].get_lines() if ln.get_linestyle() == ":"]
    plt.close(fig)


# --- embedded players (the convention in mtass_lite/viz.py's docstring) ---------------------------

from mtass_lite import viz  # noqa: E402


def _tone(seconds=2.0, sr=16000, amp=0.5):
    t = np.arange(int(seconds * sr)) / sr
    return (amp * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def test_player_embeds_a_decodable_ogg_clip_of_the_right_length():
    (clip,) = viz.embedded_clips(viz.player_html(_tone(2.0), "tone"))
    assert clip["src_embedded"] and clip["sample_rate"] == 16000
    assert clip["seconds_declared"] == pytest.approx(2.0)
    assert len(clip["audio"]) / 16000 == pytest.approx(2.0, abs=0.01)
    assert np.abs(clip["audio"]).max() == pytest.approx(0.5, abs=0.05)  # not rescaled: quiet stays quiet


def test_player_is_peak_safe_and_cut_to_max_seconds():
    (clip,) = viz.embedded_clips(viz.player_html(_tone(10.0, amp=3.0)))
    assert clip["seconds_declared"] == pytest.approx(viz.MAX_CLIP_SECONDS)
    assert len(clip["audio"]) == pytest.approx(viz.MAX_CLIP_SECONDS * 16000, abs=160)
    assert np.abs(clip["audio"]).max() <= 1.0 and np.abs(clip["audio"]).max() > 0.7


def test_player_refuses_empty_and_nan_clips():
    with pytest.raises(ValueError, match="empty"):
        viz.player_html(np.zeros(0))
    with pytest.raises(ValueError, match="NaN"):
        viz.player_html(np.full(100, np.nan))


def test_compare_shows_reference_estimate_and_residual_per_track():
    refs = np.stack([_tone(1.0, amp=a) for a in (0.2, 0.3, 0.4)])
    ests = refs * 0.5
    html_text = viz.compare_html(refs.sum(0), refs, ests, scores={"speech": {"SDRi": 3.0}})
    clips = viz.embedded_clips(html_text)
    assert len(clips) == 1 + 3 * 3 and all(c["src_embedded"] for c in clips)
    assert "residual" in html_text and "SDRi +3.0 dB" in html_text
    # the residual row of the music track is reference − estimate = 0.5 · reference
    np.testing.assert_allclose(np.abs(clips[1 + 3 + 2]["audio"]).max(), 0.15, atol=0.02)


def test_chooser_has_one_block_per_mixture_and_a_player_per_model_and_track():
    refs = np.stack([_tone(1.0)] * 3)
    html_text = viz.chooser_html({"a": refs.sum(0), "b": refs.sum(0)}, {"a": refs, "b": refs},
                                 {m: {"x": refs, "y": refs * 0.5} for m in ("a", "b")},
                                 scores={"a": {"x": {"speech": {"SI-SDRi": 1.25}}}})
    assert html_text.count("<details") == 2
    assert len(viz.embedded_clips(html_text)) == 2 * (1 + 3 * (1 + 2))
    assert "SI-SDRi +1.2 dB" in html_text or "SI-SDRi +1.3 dB" in html_text


def test_embedded_clips_flags_players_that_point_at_files():
    (clip,) = viz.embedded_clips('<audio controls src="_audio/x.wav"></audio>')
    assert not clip["src_embedded"] and "audio" not in clip


def test_plot_spectrogram_uses_librosa_axes_in_hz():
    fig, ax = plt.subplots()
    viz.plot_spectrogram(ax, _tone(1.0), "tone")
    assert ax.get_ylabel() == "freq (Hz)" and ax.get_ylim()[1] == pytest.approx(8000, rel=0.01)
    assert ax.get_xlim()[1] == pytest.approx(1.0, abs=0.05)
    plt.close(fig)


def test_listen_separation_scores_each_track_like_metrics_improvement():
    from mtass_lite.metrics import improvement

    rng = np.random.default_rng(0)
    refs = rng.standard_normal((3, 16000)) * 0.1
    ests = refs + 0.05 * rng.standard_normal((3, 16000))
    mix = refs.sum(0)
    sc = viz.separation_scores(mix, refs, ests)
    np.testing.assert_allclose([sc[t]["SDRi"] for t in TRACKS], improvement(ests, refs, mix, "sdr"), atol=1e-9)
    np.testing.assert_allclose([sc[t]["SI-SDRi"] for t in TRACKS], improvement(ests, refs, mix, "si_sdr"), atol=1e-9)
    out = viz.listen_separation(mix, refs, ests, caption="c")
    assert len(viz.embedded_clips(out.data)) == 10 and f"SDRi {sc['music']['SDRi']:+.1f} dB" in out.data
