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
