"""The shipped weights (mtass_lite/pretrained) separate a fresh synthetic mixture through the CLI.

The mixture is made here from the library's own generators with sentences, a song and a noise scene
the weights never saw in this combination; a working model must beat the trivial "mixture / 3"
estimate on it (chapter 03), which positive SDRi alone would not show.
"""
import numpy as np
import pytest
import soundfile as sf

from mtass_lite import SAMPLE_RATE, TRACKS
from mtass_lite.__main__ import main
from mtass_lite.data import music_synth, noise_synth, speech_synth
from mtass_lite.data.mixing import mix_at_snr
from mtass_lite.metrics import sdr_improvement
from mtass_lite.shipped import pretrained_path, shipped


@pytest.fixture(scope="module")
def mixture_file(tmp_path_factory):
    rng = np.random.default_rng(123)
    speech = np.concatenate([speech_synth.synthesize("The museum is closed on Mondays.", "en-us+m3"),
                             speech_synth.synthesize("今天天气很好。", "cmn+f2")])
    n = speech.shape[0]
    music = music_synth.render(music_synth.song(rng, n / SAMPLE_RATE + 1.0))[:n]
    noise, _kinds = noise_synth.make_noise(rng, n)
    music, _ = mix_at_snr(speech, music, 0.0)
    noise, _ = mix_at_snr(speech, noise, 2.0)
    stems = np.stack([speech, music, noise]).astype(np.float32)
    stems *= 0.5 / np.abs(stems.sum(0)).max()
    path = tmp_path_factory.mktemp("mix") / "mix.wav"
    sf.write(path, stems.sum(0), SAMPLE_RATE, subtype="FLOAT")
    return path, stems


def test_every_shipped_file_records_its_training():
    rows = shipped()
    assert {(r["name"], r["size"]) for r in rows} >= {("complex_mtassnet", "lite"), ("conv_tasnet", "lite")}
    for r in rows:
        assert r["params"] > 0 and r["trained"].get("recipe"), r
        assert r["trained"].get("sources") or r["trained"].get("data"), r  # `data`: files shipped before ship()
        assert r["trained"].get("steps", r["trained"].get("step")), r


@pytest.mark.parametrize("name", ["complex_mtassnet", "conv_tasnet"])
def test_shipped_weights_separate_through_the_cli(name, mixture_file, tmp_path):
    assert pretrained_path(name).stat().st_size < 8e6  # "a few MB"
    path, stems = mixture_file
    assert main(["separate", str(path), "--model", name, "--out", str(tmp_path)]) == 0
    est = np.stack([sf.read(tmp_path / "mix" / f"{t}.wav", dtype="float32")[0] for t in TRACKS])
    assert est.shape == stems.shape
    mixture = stems.sum(0)
    sdri = np.asarray(sdr_improvement(est, stems, mixture))
    thirds = np.asarray(sdr_improvement(np.repeat(mixture[None] / 3, 3, 0), stems, mixture))
    assert np.all(sdri > thirds), (sdri, thirds)
