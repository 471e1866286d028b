"""mtass_lite.explore: the chapters' interactive explorers — pure state functions and headless widgets."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from mtass_lite import explore as E  # noqa: E402
from mtass_lite import masks, metrics  # noqa: E402

SR = 16000


def _chirp(seconds=2.0, seed=0):
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(seed)
    return 0.3 * np.sin(2 * np.pi * (200 * t + 700 * t ** 2)) + 0.02 * rng.standard_normal(t.size)


@pytest.fixture(scope="module")
def sources():
    """Three roughly orthogonal 2-s sources: a gated low tone ('speech'), a high chord ('music'), band noise."""
    t = np.arange(2 * SR) / SR
    rng = np.random.default_rng(1)
    speech = 0.4 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 3 * t) > 0)
    music = 0.2 * (np.sin(2 * np.pi * 1760 * t) + np.sin(2 * np.pi * 2217 * t))
    noise = np.convolve(rng.standard_normal(t.size), np.ones(4) / 4, "same") * 0.05
    noise = noise - np.convolve(noise, np.ones(64) / 64, "same")  # high-passed noise
    return np.stack([speech, music, noise])


# --- chapter 01: STFT ---------------------------------------------------------------------------------

def test_stft_state_hann_512_128_round_trips_exactly():
    x = _chirp()
    st = E.stft_state(x, 512, 128, "hann")
    assert st["nola"] and st["cola"]
    assert st["max_err_istft"] < 1e-5 and st["max_err_ola"] < 1e-5
    assert st["spec_db"].shape == (257, x.size // 128 + 1)
    assert st["spec_db"].max() == 0 and st["spec_db"].min() >= E.FLOOR_DB
    assert st["recon_istft"].shape == x.shape


def test_stft_state_uses_the_library_stft_for_its_windows():
    from mtass_lite import stft as S

    x = _chirp(1.0)
    X = S.stft(torch.from_numpy(x), 512, 256, "hamming")
    db = 20 * np.log10(X.abs().numpy() + 1e-12)
    st = E.stft_state(x, 512, 256, "hamming")
    np.testing.assert_allclose(st["spec_db"], np.maximum(db - db.max(), E.FLOOR_DB))
    assert st["cola"] and st["max_err_ola"] < 1e-9  # hamming at n_fft/2: COLA up to a constant


@pytest.mark.parametrize("n_fft,hop,window", [(512, 384, "hann"), (512, 256, "sqrt-hann")])
def test_non_cola_plain_overlap_add_breaks_while_istft_stays_exact(n_fft, hop, window):
    st = E.stft_state(_chirp(), n_fft, hop, window)
    assert st["nola"] and not st["cola"]
    assert st["max_err_istft"] < 1e-5 and st["snr_istft_db"] > 100
    assert st["max_err_ola"] > 1e-2 and st["snr_ola_db"] < 25


@pytest.mark.parametrize("n_fft,hop,window", [(512, 512, "hann"), (512, 640, "rectangular"), (256, 320, "hann")])
def test_nola_failure_is_reported_not_raised(n_fft, hop, window):
    st = E.stft_state(_chirp(), n_fft, hop, window)
    assert not st["nola"] and st["recon_istft"] is None and st["istft_error"]
    assert st["max_err_istft"] is None and np.isfinite(st["max_err_ola"])
    assert "not invertible (NOLA fails)" in E._stft_summary(st)
    plt.close(E.stft_figure(st))


def test_window_sums_flags():
    assert E.window_sums(512, 512, "rectangular")["cola"]
    assert E.window_sums(512, 128, "blackman")["cola"]
    assert not E.window_sums(512, 384, "hann")["cola"]
    assert E.window_sums(512, 384, "hann")["nola"]
    with pytest.raises(ValueError):
        E.analysis_window(512, "kaiser?")


def test_stft_figure_has_spectrogram_and_window_sums():
    fig = E.stft_figure(E.stft_state(_chirp(1.0), 256, 64, "hamming"))
    assert len(fig.axes) == 2 and "COLA" in fig.axes[1].get_title()
    plt.close(fig)


# --- chapter 02: masks ----------------------------------------------------------------------------------

def test_mask_state_irm_separates_and_matches_the_library(sources):
    mix = sources.sum(0)
    st = E.mask_state(mix, sources, "irm", "speech")
    assert st["sdri"] > 3 and st["si_sdri"] > 3
    assert st["track_index"] == 0 and st["mask_image"].shape == (257, mix.size // 256 + 1)
    assert 0 <= st["mask_image"].min() and st["mask_image"].max() <= 1 + 1e-6
    est = masks.oracle_separation(torch.from_numpy(mix), torch.from_numpy(sources), "irm").numpy()
    np.testing.assert_allclose(st["estimate"], est[0])
    imp = metrics.improvement(est, sources, mix, "sdr")
    assert st["sdri_all"]["music"] == pytest.approx(float(imp[1]))


def test_mask_state_ibm_differs_from_irm_and_all_kinds_run(sources):
    mix = sources.sum(0)
    states = {k: E.mask_state(mix, sources, k, "music") for k in masks.MASK_TYPES}
    assert set(np.unique(states["ibm"]["mask_image"])) <= {0.0, 1.0}
    assert not np.allclose(states["ibm"]["mask_image"], states["irm"]["mask_image"])
    assert states["ibm"]["sdri"] != pytest.approx(states["irm"]["sdri"])
    assert states["cirm"]["complex_mask"] and not states["psm"]["complex_mask"]
    assert all(np.isfinite(s["sdri"]) for s in states.values())
    plt.close(E.mask_figure(states["ri_scaling"]))
    with pytest.raises(ValueError):
        E.mask_state(mix, sources, "wiener", "music")


# --- chapter 03: metrics --------------------------------------------------------------------------------

def test_gain_changes_sdr_but_not_si_sdr(sources):
    ref = sources[0] + sources[1]
    base = E.metric_state(ref, leak_db=-10, cutoff_hz=3000)
    for g in (-12, 6):
        st = E.metric_state(ref, gain_db=g, leak_db=-10, cutoff_hz=3000)
        assert abs(st["si_sdr"] - base["si_sdr"]) < 1e-6
        assert abs(st["sdr"] - base["sdr"]) > 0.5
        assert abs(st["bss_sdr"] - base["bss_sdr"]) < 1e-3


def test_delay_hurts_si_sdr_far_more_than_bss_eval():
    ref = np.random.default_rng(3).standard_normal(2 * SR)
    st = E.metric_state(ref, delay_ms=1.0)
    assert st["si_sdr"] < 0 and st["sdr"] < 0
    assert st["bss_sdr"] > 20 and st["bss_sdr"] - st["si_sdr"] > 20
    np.testing.assert_allclose(st["estimate"][16:], ref[:-16])


def test_distort_lowpass_leak_and_defaults(sources):
    ref = sources[2]
    assert np.array_equal(E.distort(ref), ref)
    lp = E.distort(ref, cutoff_hz=1000)
    spec = np.abs(np.fft.rfft(lp))
    f = np.fft.rfftfreq(lp.size, 1 / SR)
    assert spec[f > 3000].mean() < 1e-2 * np.abs(np.fft.rfft(ref))[f > 3000].mean()
    leak = E.distort(ref, leak_db=-20, interference=sources[1]) - ref
    assert 10 * np.log10(np.sum(leak ** 2) / np.sum(ref ** 2)) == pytest.approx(-20, abs=1e-3)
    assert E.metric_state(ref, leak_db=-20)["sdr"] == pytest.approx(20, abs=1e-3)  # white-noise leak
    st = E.metric_state(ref, cutoff_hz=2000)
    assert st["bss_sdr"] > st["si_sdr"] + 10  # a causal low-pass is a filter BSS-eval forgives
    assert E.distort(ref, cutoff_hz="off", leak_db="off").tolist() == ref.tolist()


# --- chapter 04: SNRs ------------------------------------------------------------------------------------

def test_snr_state_reproduces_the_requested_snrs(sources):
    s, m, n = 0.2 * sources  # quiet enough that the guard stays idle
    for snr_m, snr_n in [(-5.0, 5.0), (0.0, -10.0), (7.5, 2.0)]:
        st = E.snr_state(s, m, n, snr_m, snr_n)
        tg = st["targets"].astype(np.float64)
        got = [10 * np.log10(np.sum(tg[0] ** 2) / np.sum(tg[k] ** 2)) for k in (1, 2)]
        assert got == pytest.approx([snr_m, snr_n], abs=1e-4)
        assert st["snr_db"]["music"] == pytest.approx(snr_m, abs=1e-4)
        np.testing.assert_allclose(st["mixture"], st["targets"].sum(0), atol=1e-6)
        assert not st["guard_fired"] and st["clip_scale"] == 1.0


def test_snr_state_guard_fires_on_a_loud_case_and_keeps_snrs(sources):
    s, m, n = sources
    st = E.snr_state(2 * s, m, n, -10.0, -10.0)
    assert st["guard_fired"] and st["clip_scale"] < 1 and st["peak_before"] > 0.99
    assert np.abs(st["mixture"]).max() <= 0.99 + 1e-6
    assert st["snr_db"]["music"] == pytest.approx(-10, abs=1e-4)
    assert st["snr_db"]["noise"] == pytest.approx(-10, abs=1e-4)
    plt.close(E.snr_figure(st))


# --- widgets, headless -----------------------------------------------------------------------------------

def _children(res):
    return {w.description: w for w in res["controls"].children}


def _counting(monkeypatch, name):
    calls = []
    fn = getattr(E, name)

    def spy(*a, **k):
        calls.append((a[1:], k))  # all but the signal
        return fn(*a, **k)

    monkeypatch.setattr(E, name, spy)
    return calls


def test_stft_explorer_renders_and_rerenders_on_change(monkeypatch):
    calls = _counting(monkeypatch, "stft_state")
    res = E.stft_explorer(torch.from_numpy(_chirp(1.0)).float())
    assert len(calls) == 1 and len(res["handles"]) == 3
    c = _children(res)
    c["hop"].value = "n_fft"  # hann at hop = n_fft: NOLA fails, still renders
    assert len(calls) == 2 and calls[-1][0][1] == 512
    c["n_fft"].value = 256
    assert len(calls) == 3 and calls[-1][0][:3] == (256, 256, "hann")


def test_mask_explorer_renders_and_rerenders_on_change(monkeypatch, sources):
    calls = _counting(monkeypatch, "mask_state")
    res = E.mask_explorer(sources.sum(0), torch.from_numpy(sources))
    c = _children(res)
    c["mask"].value = "ibm"
    c["track"].value = "noise"
    assert [a[1:3] for a, _ in calls] == [("irm", "speech"), ("ibm", "speech"), ("ibm", "noise")]
    assert len(res["handles"]) == 3


def test_metric_explorer_renders_and_rerenders_on_change(monkeypatch, sources):
    calls = _counting(monkeypatch, "metric_state")
    res = E.metric_explorer(sources[0], sources[1])
    c = _children(res)
    c["gain (dB)"].value = 6.0
    c["low-pass (Hz)"].value = 2000
    assert len(calls) == 3 and calls[-1][0][:3] == (6.0, 0.0, 2000)
    res = E.metric_explorer(sources[0])  # no interference: white noise leaks
    _children(res)["noise leakage (dB re ref)"].value = -20
    assert calls[-1][0][3] == -20


def test_snr_explorer_renders_and_rerenders_on_change(monkeypatch, sources):
    calls = _counting(monkeypatch, "snr_state")
    res = E.snr_explorer(*sources)
    c = _children(res)
    c["music SNR (dB re speech)"].value = -5.0
    c["noise SNR (dB re speech)"].value = 5.0
    assert [a[2:4] for a, _ in calls] == [(0.0, 0.0), (-5.0, 0.0), (-5.0, 5.0)]
    assert len(res["handles"]) == 3


def test_update_refreshes_every_handle(monkeypatch, sources):
    seen = []
    from IPython.display import DisplayHandle

    monkeypatch.setattr(DisplayHandle, "update", lambda self, obj, **kw: seen.append(self.display_id))
    res = E.snr_explorer(*sources)
    res["update"]()
    assert seen == [h.display_id for h in res["handles"]] and len(set(seen)) == 3


def test_live_view_shows_as_one_line_without_memory_addresses():
    import ipywidgets as widgets
    from IPython.lib.pretty import pretty

    from mtass_lite.explore import live

    view = live(lambda a: [f"a = {a}"], {"a": widgets.IntSlider(value=1, description="gain")})
    assert pretty(view) == repr(view) == "explorer (gain): a running kernel makes the controls move the outputs above"
    assert "0x" not in pretty(view) and set(view) == {"controls", "handles", "update"}
