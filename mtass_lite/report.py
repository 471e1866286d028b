"""Markdown tables rendered from ``results/*.json`` into README.md (``python -m mtass_lite.report``).

README sections between ``<!-- BEGIN name -->`` and ``<!-- END name -->`` are generated here, so every
number in the README comes from a results file; ``tests/test_report.py`` fails when they drift.
"""
from __future__ import annotations

import re
import sys
from collections.abc import Mapping
from pathlib import Path

from . import REPO_ROOT, TRACKS, results_dir
from .results import paper_table, read_json

MODEL_ORDER = ("gcrn", "demucs", "d3net", "conv_tasnet", "complex_mtassnet")


def _fmt(x, nd=2):
    return "–" if x is None else f"{x:.{nd}f}"


def paper_markdown() -> str:
    rows = ["| Model | Params | MAC/s | Speech | Music | Noise | Avg |", "|---|---|---|---|---|---|---|"]
    for v in paper_table().values():
        s = v["sdri"]
        rows.append(f"| {v['label']} | {v['params_m']:.2f} M | {v['gmac_per_s']} G | {s['speech']:.2f} | "
                    f"{s['music']:.2f} | {s['noise']:.2f} | {s['average']:.2f} |")
    return "\n".join(rows)


def _result(name: str) -> dict | None:
    """``results/<name>.json``, or None when it has not been computed (the section says so)."""
    p = results_dir() / f"{name}.json"
    return read_json(p) if p.exists() else None


def _same_build(a: dict, b: dict) -> bool:
    """Whether two results were made on the same MTASS-tiny build (their ``data_build``: speech engine and
    content hash); results on different builds are never pooled or set side by side as one experiment."""
    return a.get("data_build") == b.get("data_build")


def _speech_text(res: dict) -> str:
    """" (speech: Piper neural voice)" for a result made on an MTASS-tiny build that records its engine."""
    from .data.tts import ENGINE_NAMES

    speech = (res.get("data_build") or {}).get("speech")
    return f" (speech: {ENGINE_NAMES[speech]})" if speech else ""


def made_on(results: Mapping[str, dict | None]) -> str:
    """A sentence naming which of the rendered results (``{file stem: loaded results/<stem>.json}``) were made
    on an MTASS-tiny build whose speech is not today's default (the eSpeak build, before the switch to the
    neural voice), or "" when none was. Every section that renders such a file appends it, so no number
    hides which data it came from."""
    from .data.tts import DEFAULT_ENGINE, ENGINE_NAMES

    old: dict[str, list[str]] = {}
    for name, res in results.items():
        speech = ((res or {}).get("data_build") or {}).get("speech")
        if speech and speech != DEFAULT_ENGINE:
            old.setdefault(speech, []).append(name)
    return "".join(f"\n\n_Made on MTASS-tiny's {ENGINE_NAMES[speech]} build, before its English speech switched to "
                   f"the {ENGINE_NAMES[DEFAULT_ENGINE]} (not re-run since): "
                   + ", ".join(f"`results/{n}.json`" for n in files) + "._" for speech, files in old.items())


def oracle_markdown() -> str | None:
    res = _result("oracle_masks")
    if res is None:
        return None
    rows = [f"Oracle SDRi (dB, plain SNR form) on {res['n_items']} MTASS-tiny test mixtures, masks bounded "
            f"at {res['bound']}:", "", "| Mask | Speech | Music | Noise | Avg |", "|---|---|---|---|---|"]
    for k, v in res["mean"].items():
        s = v["sdri"]
        avg = sum(s[t] for t in TRACKS) / 3
        rows.append(f"| {k} | " + " | ".join(_fmt(s[t], 1) for t in TRACKS) + f" | {avg:.1f} |")
    return "\n".join(rows)


def profile_markdown() -> str | None:
    prof = _result("profile")
    if prof is None:
        return None
    rows_in = prof["models"] if isinstance(prof, dict) and "models" in prof else prof
    paper = paper_table()
    load = prof.get("load_average_1min") if isinstance(prof, dict) else None
    guard = prof.get("guard") if isinstance(prof, dict) else None
    quiet = (f"; recorded on a quiet machine: load average {load} at the start, the reference matrix product "
             f"within {guard['max_reference_ratio']:g}x of its best around every model" if guard else
             f" (load average {load} while measured)")
    rows = ([f"CPU RTF = fastest forward time / audio time with {guard['threads'] if guard else 2} threads{quiet}.", ""]
            if load is not None else []) + ["| Model | size | Params (ours) | Params (paper) | GMAC/s (ours) | GMAC/s (paper) | CPU RTF |",
            "|---|---|---|---|---|---|---|"]
    for r in rows_in:
        pp = paper.get(r["model"], {})
        paper_params = f"{pp['params_m']:.2f} M" if r["size"] == "paper" and pp else ""
        paper_macs = f"{pp['gmac_per_s']}" if r["size"] == "paper" and pp else ""
        rows.append(f"| {pp.get('label', r['model'])} | {r['size']} | {r['params'] / 1e6:.2f} M | {paper_params} | "
                    f"{r['macs_per_second'] / 1e9:.2f} | {paper_macs} | {_fmt(r.get('rtf'), 3)} |")
    return "\n".join(rows)


def _pm(d) -> str:
    return f"{d['mean']:.2f} ± {d['ci95']:.2f}" if d.get("ci95") is not None else f"{d['mean']:.2f}"


def _delta(d: dict, mark_ns: bool = False) -> str:
    """A signed (paired) difference with its 95 % CI half-width; ``mark_ns``: " (n.s.)" when the
    interval contains zero (no detectable change)."""
    ns = " (n.s.)" if mark_ns and abs(d["mean"]) <= d["ci95"] else ""
    return f"{d['mean']:+.2f} ± {d['ci95']:.2f}{ns}"


def reproduction_markdown(mode: str = "cpu") -> str | None:
    res = _result(f"reproduction_{mode}")
    if res is None:
        return None
    paper = paper_table()
    plan = res.get("plan", {})
    how = []
    if plan.get("cpu_minutes"):
        how.append(f"{plan['cpu_minutes']:g} CPU-min of training per model")
    if plan.get("overrides", {}).get("augment", "none") != "none":
        how.append(f"augmentation `{plan['overrides']['augment']}`")
    threads = {v["training"].get("torch_threads") for v in res["models"].values()}
    if len(threads) == 1 and None not in threads:  # wall-clock is not reported: it depends on machine load
        how.append(f"{threads.pop()} torch thread(s) per process")
    rows = [f"Ours: {res['mode']} mode, {res['models'][next(iter(res['models']))]['size']} models on "
            f"{res['data']}{_speech_text(res)}, {res['budget_note']}{' (' + ', '.join(how) + ')' if how else ''}; SDRi mean ± 95 % CI "
            f"over {next(iter(res['models'].values()))['n_items']} test mixtures (dB). Paper: paper-size models on MTASS.",
            "", "| Model | Params | CPU-min | Steps | Speech | Music | Noise | Avg | SI-SDRi avg | Paper avg |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for m in MODEL_ORDER:
        if m not in res["models"]:
            continue
        v = res["models"][m]
        tr = v["training"]
        rows.append(f"| {paper[m]['label']} | {v['params'] / 1e6:.2f} M | {tr['cpu_seconds'] / 60:.1f} | {tr['step']} | "
                    + " | ".join(_pm(v["sdri"][t]) for t in (*TRACKS, "avg"))
                    + f" | {v['si_sdri']['avg']['mean']:.2f} | {paper[m]['sdri']['average']:.2f} |")
    for label, v in res.get("baselines", {}).items():
        rows.append(f"| _baseline: {label}_ | 0 | – | – | "
                    + " | ".join(_pm(v["sdri"][t]) for t in (*TRACKS, "avg"))
                    + f" | {v['si_sdri']['avg']['mean']:.2f} | |")
    return "\n".join(rows) + made_on({f"reproduction_{mode}": res})


def reproduction_verdict_markdown(mode: str = "cpu") -> str | None:
    """Two sentences computed from ``results/reproduction_<mode>.json``: does every model beat the
    "mixture/3" baseline on every track (SDRi), and is our average-SDRi ranking the paper's?"""
    res = _result(f"reproduction_{mode}")
    if res is None or "mixture/3" not in res.get("baselines", {}):
        return None
    paper = paper_table()
    base = res["baselines"]["mixture/3"]["sdri"]
    below = [(paper[m]["label"], t) for m, v in res["models"].items() for t in TRACKS
             if v["sdri"][t]["mean"] <= base[t]["mean"]]
    ours = sorted(res["models"], key=lambda m: -res["models"][m]["sdri"]["avg"]["mean"])
    theirs = sorted(res["models"], key=lambda m: -paper[m]["sdri"]["average"])
    first = ("Every lite model beats the mixture/3 baseline on every track, so the pipeline separates"
             if not below else "Not every model beats the mixture/3 baseline: "
             + ", ".join(f"{label} on {t}" for label, t in below) + " does not")
    second = ("our average-SDRi ranking is the paper's" if ours == theirs else
              "our average-SDRi ranking is not the paper's: " + " > ".join(paper[m]["label"] for m in ours)
              + " (paper: " + " > ".join(paper[m]["label"] for m in theirs) + ")")
    return f"{first}; {second}."


OBJECTIVE_RUNS = {"shared objective (−SNR)": "reproduction_cpu", "released objectives": "reproduction_cpu_released"}


def ranking_markdown(runs: dict = OBJECTIVE_RUNS) -> str | None:
    """The two CPU reproductions' rankings (one shared objective; each model's released objective), each
    step of a ranking with its paired difference on the same mixtures, the seed check where a
    ``<name>_seed<N>.json`` exists, and which claims hold under both objectives."""
    from .reproduce import holding_claims, ranking_claims

    results = {label: _result(name) for label, name in runs.items()}
    if any(r is None or not all("per_item" in v for v in r["models"].values()) for r in results.values()):
        return None
    paper = paper_table()
    label_of = lambda m: paper[m]["label"]  # noqa: E731
    all_seeds = {label: {p.stem: read_json(p) for p in sorted(results_dir().glob(f"{name}_seed*.json"))}
                 for label, name in runs.items()}
    # a seed check made on another MTASS-tiny build (other speech) is not a replicate of this run
    seeds = {label: [r for r in all_seeds[label].values() if _same_build(r, results[label])] for label in runs}
    other_build = {stem: r for label in runs for stem, r in all_seeds[label].items() if not _same_build(r, results[label])}
    rows = ["Each step of each ranking, avg SDRi of the upper model minus the lower one on the same test "
            "mixtures (paired mean ± 95 % CI, dB); a claim *holds* when the interval excludes 0. Where a second "
            "seed was trained, its difference and the seed-pooled one are shown.", "",
            "| Objective | Claim | Δ avg SDRi | holds | other seed: Δ | seed-pooled Δ | holds (pooled) |",
            "|---|---|---|---|---|---|---|"]
    held = {}
    for label, res in results.items():
        claims = ranking_claims(res, seeds=seeds[label])
        held[label] = holding_claims(res, seeds=seeds[label])  # every pair, not only neighbours
        for c in claims:
            pooled = c.get("pooled")
            rows.append(f"| {label} | {label_of(c['better'])} > {label_of(c['worse'])} | "
                        f"{c['mean']:+.2f} ± {c['ci95']:.2f} | {'yes' if c['holds'] else 'no'} | "
                        + (f"{pooled['other_seeds_mean']:+.2f} | {_delta(pooled)} | {'yes' if pooled['holds'] else 'no'} |"
                           if pooled else "– | – | – |"))
    orders = {label: " > ".join(label_of(m) for m in sorted(r["models"], key=lambda m: -r["models"][m]["sdri"]["avg"]["mean"]))
              for label, r in results.items()}
    both = set.intersection(*held.values())
    in_paper = {(a, b) for a, b in both if paper[a]["sdri"]["average"] > paper[b]["sdri"]["average"]}
    rows += [""] + [f"- {label}: {order}" for label, order in orders.items()]
    rows.append("- Claims \"A > B\" (any two models, paired CI excluding 0, seed-pooled where a second seed "
                "exists) that hold under both objectives: "
                + (", ".join(f"{label_of(a)} > {label_of(b)}" + ("" if (a, b) in in_paper else " (the paper: the reverse)")
                             for a, b in sorted(both, key=lambda ab: (label_of(ab[0]), label_of(ab[1]))))
                   if both else "none")
                + "; every other comparison depends on the objective or is within noise.")
    if other_build:
        rows.append("- Not pooled: the seed checks " + ", ".join(f"`{stem}.json`" for stem in other_build)
                    + " were trained on another MTASS-tiny build than the tables above.")
    return "\n".join(rows) + made_on({**{runs[label]: results[label] for label in runs}, **other_build})


def real_markdown() -> str | None:
    res = _result("real_generalisation")
    if res is None:
        return None
    paper = paper_table()
    rows = [f"SDRi (dB) of the CPU-reproduction models on the MTASS-tiny test set and on "
            f"{res['real_test_set']['n_mixtures']} mixtures mixed with the same recipe from real recordings "
            f"({res['real_test_set']['source']}):", "",
            "| Model | tiny: Speech | Music | Noise | Avg | real: Speech | Music | Noise | Avg |",
            "|---|---|---|---|---|---|---|---|---|"]
    for m in MODEL_ORDER:
        if m not in res["models"]:
            continue
        v = res["models"][m]
        rows.append(f"| {paper[m]['label']} | " + " | ".join(
            f"{v[k]['sdri'][t]['mean']:.2f}" for k in ("tiny", "real") for t in (*TRACKS, "avg")) + " |")
    for label, v in res.get("baselines", {}).items():
        rows.append(f"| _baseline: {label}_ | " + " | ".join(
            f"{v[k]['sdri'][t]['mean']:.2f}" for k in ("tiny", "real") for t in (*TRACKS, "avg")) + " |")
    return "\n".join(rows) + made_on({"real_generalisation": res})


def budget_markdown(before: str = "reproduction_cpu_6min_noaug", after: str = "reproduction_cpu_20min_v1") -> str | None:
    """Average SDRi per model in two CPU reproductions (an earlier, shorter one and the current one)."""
    a, b = _result(before), _result(after)
    if a is None or b is None:
        return None
    paper = paper_table()

    def setting(r):
        aug = r.get("plan", {}).get("overrides", {}).get("augment", "none")
        return f"{r['plan']['cpu_minutes']:g} CPU-min, augment {aug}"

    rows = [f"Average SDRi (dB) on the MTASS-tiny test set, `{before}.json` vs `{after}.json`:", "",
            f"| Model | {setting(a)}: steps | avg SDRi | {setting(b)}: steps | avg SDRi | change |",
            "|---|---|---|---|---|---|"]
    for m in MODEL_ORDER:
        if m in a["models"] and m in b["models"]:
            va, vb = a["models"][m], b["models"][m]
            da, db = va["sdri"]["avg"]["mean"], vb["sdri"]["avg"]["mean"]
            rows.append(f"| {paper[m]['label']} | {va['training']['step']} | {da:.2f} | {vb['training']['step']} | "
                        f"{db:.2f} | {db - da:+.2f} |")
    return "\n".join(rows) + made_on({before: a, after: b})


def _variant_order(keys) -> list[str]:
    """Variants of real_gap_augment.json in AUGMENTS order, seed 0 first, then other seeds."""
    from .data.augment import AUGMENTS

    def rank(key):
        kind, _, seed = key.partition("@seed")
        return (int(seed or 0), AUGMENTS.index(kind) if kind in AUGMENTS else len(AUGMENTS), key)

    return sorted(keys, key=rank)


def augment_markdown(name: str = "real_gap_augment") -> str | None:
    """The equal-step augmentation comparison of ``results/<name>.json`` (benchmarks/real_gap_augment.py)."""
    res = _result(name)
    if res is None:
        return None
    paper = paper_table()

    def paired(v, label):
        d = v.get("paired_vs_none", {}).get(label, {}).get("sdri")
        return _delta(d, mark_ns=True) if d else "–"

    rows = [f"{paper[res['model']]['label']} lite, {res['steps']} training steps each (same seed, same data "
            f"order), best dev checkpoint; SDRi / SI-SDRi averaged over the three tracks (dB). The Δ columns "
            f"compare with `none` of the same seed on the same mixtures (paired mean difference ± 95 % CI):", "",
            "| Augmentation | seed | tiny SDRi | real SDRi | gap | tiny SI-SDRi | real SI-SDRi | Δ tiny SDRi | "
            "Δ real SDRi |", "|---|---|---|---|---|---|---|---|---|"]
    for key in _variant_order(res["variants"]):
        v = res["variants"][key]
        t, r = v["tiny"], v["real"]
        rows.append(f"| `{key.partition('@')[0]}` | {v.get('seed', 0)} | {t['sdri']['avg']['mean']:.2f} | "
                    f"{r['sdri']['avg']['mean']:.2f} | {r['sdri']['avg']['mean'] - t['sdri']['avg']['mean']:+.2f} | "
                    f"{t['si_sdri']['avg']['mean']:.2f} | {r['si_sdri']['avg']['mean']:.2f} | {paired(v, 'tiny')} | "
                    f"{paired(v, 'real')} |")
    for kind, pooled in res.get("pooled_vs_none", {}).items():
        rows += ["", f"`{kind}` − `none`, each mixture's difference averaged over seeds "
                     f"{', '.join(map(str, pooled['seeds']))}: SDRi tiny {_delta(pooled['tiny']['sdri'], True)}, "
                     f"real {_delta(pooled['real']['sdri'], True)} dB."]
    return "\n".join(rows) + made_on({name: res})


def attribution_markdown() -> str | None:
    """Which real source costs how much (benchmarks/real_gap_attribution.py): paired SI-SDRi changes."""
    res = _result("real_gap_attribution")
    if res is None:
        return None
    synth, real = (" ".join(f"{t}:{c}" for t in TRACKS) for c in ("synthetic", "real"))
    rows = ["Average SI-SDRi (dB) on the all-synthetic and the all-real test set, and its paired change when one "
            "source alone is real (mean over the other two sources' settings, ± 95 % CI, 50 mixtures):", "",
            "| Model | all synthetic | all real | real speech | real music | real noise |", "|---|---|---|---|---|---|"]
    for name, m in res["models"].items():
        e, sets = m["effect_of_real"], m["sets"]
        rows.append(f"| {name} | {sets[synth]['si_sdri']['avg']['mean']:.2f} | {sets[real]['si_sdri']['avg']['mean']:.2f} | "
                    + " | ".join(_delta(e[src]["si_sdri"]["avg"]) for src in TRACKS) + " |")
    name, m = next(iter(res["models"].items()))
    rows += ["", f"Per track, {name}: the change of each track's SI-SDRi when one source is real:", "",
             "| Real source | speech track | music track | noise track |", "|---|---|---|---|"]
    for src in TRACKS:
        rows.append(f"| {src} | " + " | ".join(_delta(m["effect_of_real"][src]["si_sdri"][t]) for t in TRACKS) + " |")
    return "\n".join(rows) + made_on({"real_gap_attribution": res})


def course_markdown() -> str | None:
    """Per chapter: reading time (words / 200 per min) and the execution time ``scripts/course.sh``
    measured in fast mode (``results/course_timings.json``, with the 1-min load average at its start)."""
    from .book import chapter_paths, format_seconds, read_chapter

    timings = _result("course_timings")
    if timings is None:
        return None
    chapters = Path(REPO_ROOT) / "chapters"
    rows = ["| chapter | reading | run time (fast mode) | load at start |", "|---|---|---|---|"]
    total_min, total_s = 0, 0.0
    for path in chapter_paths(chapters):
        ch, _ = read_chapter(path)
        t = timings.get(path.stem, {})
        sec = t.get("seconds") if isinstance(t, dict) else None
        total_min += ch.minutes
        total_s += sec or 0.0
        load = f"{t['loadavg']:.1f}" if isinstance(t, dict) and t.get("loadavg") is not None else "–"
        rows.append(f"| {ch.number} {_md_cell(ch.title.split('·')[-1].strip())} | {ch.minutes} min | "
                    f"{format_seconds(sec)} | {load} |")
    rows.append(f"| **all** | **{total_min} min** | **{format_seconds(total_s)}** | |")
    return "\n".join(rows)


def checks_markdown() -> str:
    """Every self-check of :mod:`mtass_lite.checks`: chapter, call, what it checks (docstring's first line)."""
    import inspect

    from . import checks

    rows = ["| chapter | self-check | what it checks | solution |", "|---|---|---|---|"]
    for name in sorted(n for n in checks.__all__ if n.startswith("ex")):
        fn = getattr(checks, name)
        doc = (inspect.getdoc(fn) or "").split("\n\n")[0].replace("\n", " ")
        nn = name[2:4]
        sol = sorted((Path(REPO_ROOT) / "chapters" / "solutions").glob(f"{nn}_*_solutions.ipynb"))
        link = f"[{sol[0].name}](../chapters/solutions/{sol[0].name})" if sol else "–"
        args = ", ".join(q.name for q in inspect.signature(fn).parameters.values() if q.default is q.empty)
        rows.append(f"| {nn} | `checks.{name}({args})` | {_md_cell(doc)} | {link} |")
    return "\n".join(rows)


REAL_TEST_KINDS = ("synthetic", "real", "real+synthetic")
REAL_TEST_HEADLINE = ("real+synthetic", "synthetic")  # the comparison the README states in words


def _beyond(d: dict) -> bool:
    """A paired difference whose 95 % interval excludes zero."""
    return abs(d["mean"]) > d["ci95"]


def real_test_markdown(name: str | None = None) -> str | None:
    """The fixed real test set (benchmarks/real_sources.py): one model trained for the same steps on each
    source kind, scored on the real test set and on MTASS-tiny's; then the paired differences (per seed,
    and pooled over seeds where a comparison ran with several). ``name=None``: one such table for each
    model's current file (:func:`real_test_name`) that compares two kinds or more."""
    if name is None:
        tables = [t for t in (_real_test_table(n, res) for n, res in _comparisons().items()) if t]
        return "\n\n".join(tables) or None
    return _real_test_table(name, _result(name))


def _real_test_table(name: str, res: dict | None) -> str | None:
    """:func:`real_test_markdown` of one loaded ``results/<name>.json``."""
    if res is None or not res.get("kinds"):
        return None
    kinds, base = res["kinds"], res.get("baselines", {})
    model = model_label(res.get("model", "conv_tasnet"))

    def order(key):  # seed 0's kinds in their fixed order, then each further seed's
        kind, _, tag = key.partition("@")
        return (tag, REAL_TEST_KINDS.index(kind) if kind in REAL_TEST_KINDS else len(REAL_TEST_KINDS), kind)

    keys = sorted(kinds, key=order)
    n_real = next(iter(kinds.values()))["real"]["n_mixtures"]
    n_tiny = next(iter(kinds.values()))["tiny"]["n_mixtures"]
    rows = [f"{model} lite trained for {res.get('steps')} steps on each kind of source, best checkpoint on the "
            f"kind's own dev set; SI-SDRi per track and averaged, SDRi averaged (dB, mean ± 95 % CI) on the fixed "
            f"real test set ({n_real} mixtures) and on MTASS-tiny's test set ({n_tiny}):", "",
            "| Training sources | CPU-min | real: Speech | Music | Noise | Avg SI-SDRi | Avg SDRi "
            "| tiny: Avg SI-SDRi | Avg SDRi |",
            "|---|---|---|---|---|---|---|---|---|"]
    for k in keys:
        v = kinds[k]
        real, tiny = v["real"], v["tiny"]
        rows.append(f"| {k} | {v['training']['cpu_minutes']:.1f} | "
                    + " | ".join(f"{real['si_sdri'][t]['mean']:.2f}" for t in TRACKS)
                    + f" | {_pm(real['si_sdri']['avg'])} | {_pm(real['sdri']['avg'])} | "
                    + f"{_pm(tiny['si_sdri']['avg'])} | {_pm(tiny['sdri']['avg'])} |")
    for label, v in base.get("real", {}).items():
        tiny = base.get("tiny", {}).get(label)
        rows.append(f"| _baseline: {label}_ | – | "
                    + " | ".join(f"{v['si_sdri'][t]['mean']:.2f}" for t in TRACKS)
                    + f" | {v['si_sdri']['avg']['mean']:.2f} | {v['sdri']['avg']['mean']:.2f} | "
                    + (f"{tiny['si_sdri']['avg']['mean']:.2f} | {tiny['sdri']['avg']['mean']:.2f} |"
                       if tiny else "– | – |"))
    paired = res.get("paired", {})
    if paired:
        rows += ["", "Paired differences over the same mixtures (a − b, mean ± 95 % CI; n.s. where the interval "
                 "contains zero):", "",
                 "| a − b | real: Speech SI-SDRi | Music | Noise | Avg SI-SDRi | Avg SDRi | tiny: Avg SI-SDRi "
                 "| Avg SDRi |", "|---|---|---|---|---|---|---|---|"]
        pooled = {f"{comp} (seeds {', '.join(map(str, d['seeds']))} pooled)": d
                   for comp, d in res.get("pooled", {}).items()}
        for comp, d in {**paired, **pooled}.items():
            r, t = d["real"], d["tiny"]
            rows.append(f"| {comp} | " + " | ".join(_delta(r["si_sdri"][tr], True) for tr in TRACKS)
                        + f" | {_delta(r['si_sdri']['avg'], True)} | {_delta(r['sdri']['avg'], True)} | "
                        + f"{_delta(t['si_sdri']['avg'], True)} | {_delta(t['sdri']['avg'], True)} |")
        if pooled:
            rows += ["", "_Pooled: each mixture's difference averaged over the training seeds first, then the mean "
                     "and its interval over mixtures._"]
    return "\n".join(rows) + made_on({name: res})


def real_test_verdict_markdown(name: str | None = None) -> str | None:
    """One computed paragraph per model: by how much real + synthetic sources beat synthetic ones on the real
    test set. With several training seeds the verdict is the pooled difference (each mixture's difference
    averaged over seeds; decided before seed 1 ran), and seed 0's own difference is named beside it.
    ``name=None``: a paragraph for each model's current file (:func:`real_test_name`) with the comparison."""
    if name is None:
        texts = [t for t in (_real_test_verdict(n, res) for n, res in _comparisons().items()) if t]
        return "\n\n".join(texts) or None
    return _real_test_verdict(name, _result(name))


def _real_test_verdict(name: str, res: dict | None) -> str | None:
    """:func:`real_test_verdict_markdown` of one loaded ``results/<name>.json``."""
    a, b = REAL_TEST_HEADLINE
    comp = f"{a} - {b}"
    seed0 = (res or {}).get("paired", {}).get(comp)
    if seed0 is None:
        return None
    pooled = res.get("pooled", {}).get(comp)
    d = pooled or seed0
    r, t = d["real"], d["tiny"]
    si, sdr = r["si_sdri"]["avg"], r["sdri"]["avg"]
    both = _beyond(si) and _beyond(sdr) and si["mean"] > 0 and sdr["mean"] > 0
    verdict = ("beyond its 95 % interval" if both else "not beyond its 95 % interval on both measures")
    gain = "gains" if si["mean"] > 0 else "loses"
    tiny_si = t["si_sdri"]["avg"]
    tiny_word = "gains" if tiny_si["mean"] > 0 else "loses"
    per_track = ", ".join(f"{tr} {_delta(r['si_sdri'][tr], True)}" for tr in TRACKS)
    steps = res.get("steps")
    model = model_label(res.get("model", "conv_tasnet"))
    seeds = (f", pooled over training seeds {', '.join(map(str, pooled['seeds']))} (seed 0 alone: "
             f"{_delta(seed0['real']['si_sdri']['avg'], True)} dB SI-SDRi, "
             f"{_delta(seed0['real']['sdri']['avg'], True)} dB SDRi)" if pooled else
             f", one training seed ({seed0.get('seed', 0)})")
    lead = "Real sources pay on real recordings" if both else "Real sources on real recordings"
    return (f"**{lead} ({model} lite).** Trained for the same {steps} steps, the model that mixed real "
            f"recordings into its sources ({a}) {gain} {abs(si['mean']):.2f} ± {si['ci95']:.2f} dB average "
            f"SI-SDRi ({sdr['mean']:+.2f} ± {sdr['ci95']:.2f} dB SDRi) on the real test set against the same model "
            f"trained on synthetic sources only{seeds}, {verdict} (per track: {per_track}). On MTASS-tiny's "
            f"synthetic test set it {tiny_word} {abs(tiny_si['mean']):.2f} ± {tiny_si['ci95']:.2f} dB SI-SDRi."
            + _earlier_build(name, comp) + made_on({name: res}))


def _earlier_build(name: str, comp: str) -> str:
    """The same comparison from the run on MTASS-tiny's eSpeak build (``<name>_espeak``), when there is one:
    what changed when the synthetic speech did."""
    old = (_result(f"{name}_espeak") or {}).get("paired", {}).get(comp)
    if old is None or name.endswith("_espeak"):
        return ""
    r = old["real"]
    return (f" On MTASS-tiny's earlier eSpeak NG build (synthetic speech from the formant synthesiser, seed 0, "
            f"`results/{name}_espeak.json`) the same comparison gave {_delta(r['si_sdri']['avg'], True)} dB "
            f"average SI-SDRi and {_delta(r['sdri']['avg'], True)} dB SDRi.")


def real_test_name(model: str = "conv_tasnet") -> str:
    """``results/<name>.json`` of ``benchmarks/real_sources.py --model MODEL`` on today's MTASS-tiny build:
    ``real_test`` for Conv-TasNet (the reference), ``real_test_<model>`` for the others. Runs made on an
    earlier build keep their files with the engine's suffix (``real_test_espeak``, ``real_test_gcrn_espeak``)."""
    return "real_test" if model == "conv_tasnet" else f"real_test_{model}"


def _comparisons() -> dict[str, dict]:
    """``{name: loaded results}`` of the current real-test files (one per model, registry order) that compare
    two kinds of sources or more."""
    from .models import ALL_MODELS

    loaded = {n: _result(n) for n in map(real_test_name, ALL_MODELS)}
    return {n: res for n, res in loaded.items() if len((res or {}).get("kinds", {})) >= 2}


#: Extra models measured with the CPU reproduction's plan into their own json (the five's file stays the
#: paper comparison): ``{model: results name}``.
EXTRA_REPRODUCTIONS = {"bsrnn": "reproduction_cpu_bsrnn"}
EXTRA_LABELS = {"bsrnn": "BSRNN (band-split RNN)"}


def model_label(name: str) -> str:
    """The display name of a registry model (the paper's label for the five)."""
    paper = paper_table()
    return paper[name]["label"] if name in paper else EXTRA_LABELS.get(name, name)


def _equal_budget(mode: str) -> tuple[dict, dict] | None:
    """``(reproduction_<mode>.json, {model: its entry})``: the one reader of the equal-budget files."""
    main = _result(f"reproduction_{mode}")
    if main is None:
        return None
    models = dict(main["models"])
    for name, file in EXTRA_REPRODUCTIONS.items():
        extra = _result(file)
        if extra is not None and name in extra.get("models", {}) and _same_build(extra, main):
            models[name] = extra["models"][name]
    return main, models


def equal_budget_models(mode: str = "cpu") -> dict | None:
    """``{model: its entry}`` of every lite model trained with the CPU reproduction's plan: the five of
    ``reproduction_<mode>.json`` and the extra models' own files (:data:`EXTRA_REPRODUCTIONS`); None
    without the main file."""
    both = _equal_budget(mode)
    return None if both is None else both[1]


def equal_budget_markdown(mode: str = "cpu") -> str | None:
    """Every lite model at the CPU reproduction's equal CPU budget (``reproduction_<mode>.json`` and the
    extra models' files), with the one-thread step cost of ``efficient_models.json``: what a CPU-minute buys."""
    both = _equal_budget(mode)
    if both is None:
        return None
    main, models = both
    cost = (_result("efficient_models") or {}).get("models", {})
    minutes = main["plan"].get("cpu_minutes")
    rows = [f"Every lite model with the same CPU budget ({minutes:g} CPU-min of training on one thread, MTASS-tiny, "
            f"dynamic mixing, negative-SNR loss; best dev checkpoint), scored on MTASS-tiny's test set "
            f"({main['models'][next(iter(main['models']))]['n_items']} mixtures); CPU seconds per training step "
            f"(batch 4 × 4 s, one thread) from `benchmarks/efficient_models.py`:", "",
            "| Model | params | GMAC/s | CPU s / step | steps in budget | avg SDRi | avg SI-SDRi |",
            "|---|---|---|---|---|---|---|"]
    order = sorted(models, key=lambda m: -models[m]["sdri"]["avg"]["mean"])
    for m in order:
        v = models[m]
        c = cost.get(m, {})
        step = f"{c['cpu_s_per_step_min']:.2f}" if c else "–"
        rows.append(f"| {model_label(m)} | {v['params'] / 1e6:.2f} M | {v['macs_per_second'] / 1e9:.2f} | {step} | "
                    f"{v['training']['step']} | {_pm(v['sdri']['avg'])} | {_pm(v['si_sdri']['avg'])} |")
    base = main.get("baselines", {}).get("mixture/3")
    if base:
        rows.append(f"| _baseline: mixture/3_ | – | – | – | – | {base['sdri']['avg']['mean']:.2f} | "
                    f"{base['si_sdri']['avg']['mean']:.2f} |")
    extra = [m for m in EXTRA_REPRODUCTIONS if m in models]
    if extra:
        from .reproduce import paired_difference

        best_five = next(m for m in order if m in main["models"])
        for m in extra:
            pair = {"models": {m: models[m], best_five: main["models"][best_five]}}
            d = {metric: paired_difference([pair], m, best_five, metric) for metric in ("sdri", "si_sdri")}
            rows += ["", f"{model_label(m)} − {model_label(best_five)} (the best of the five) over the same mixtures: "
                     f"avg SDRi {_delta(d['sdri'], True)}, avg SI-SDRi {_delta(d['si_sdri'], True)} dB."]
    return "\n".join(rows)


def _real_test_group(kind: str = "real+synthetic") -> dict[str, tuple[str, dict]]:
    """``{model: (results name, results)}`` of the models trained on ``kind`` sources in the real-test files
    (:func:`real_test_name`, or the earlier build's ``<name>_espeak``), all on **one** MTASS-tiny build: the
    build with the most such models (today's on a tie), so runs on two builds never share a table. Conv-TasNet,
    the reference of the paired differences, first."""
    from .data.tts import DEFAULT_ENGINE
    from .models import ALL_MODELS

    groups: dict[str, dict[str, tuple[str, dict]]] = {}
    for m in sorted(ALL_MODELS, key=lambda m: m != "conv_tasnet"):
        for name in (real_test_name(m), real_test_name(m) + "_espeak"):
            res = _result(name)
            if res and kind in res.get("kinds", {}):
                build = res.get("data_build") or {}
                groups.setdefault(repr(sorted(build.items())), {}).setdefault(m, (name, res))
    if not groups:
        return {}

    def today(group):
        return (next(iter(group.values()))[1].get("data_build") or {}).get("speech") == DEFAULT_ENGINE

    return max(groups.values(), key=lambda g: (len(g), today(g)))


def real_test_runs(kind: str = "real+synthetic") -> dict:
    """``{model: its results/real_test*.json}`` for the models trained on ``kind`` sources (same steps, same
    data, one MTASS-tiny build: :func:`_real_test_group`), Conv-TasNet first; models without such a run are
    left out."""
    return {m: res for m, (_, res) in _real_test_group(kind).items()}


def real_test_models_markdown(kind: str = "real+synthetic") -> str | None:
    """Models trained the same steps on the same ``kind`` of sources, on the fixed real test set: scores,
    CPU cost, dB per CPU-minute, and the paired difference of each to the first."""
    group = _real_test_group(kind)
    runs = {m: res for m, (_, res) in group.items()}
    if len(runs) < 1:
        return None
    first = next(iter(runs))
    rows = [f"Trained on `{kind}` sources for the same steps (one thread; the CPU-min column is what those steps "
            f"cost each model), scored on the fixed real test set "
            f"(SI-SDRi per track and averaged, SDRi averaged; dB, mean ± 95 % CI):", "",
            "| Model | steps | CPU-min | Speech | Music | Noise | Avg SI-SDRi | Avg SDRi | SI-SDRi per CPU-min |",
            "|---|---|---|---|---|---|---|---|---|"]
    for m, r in runs.items():
        v = r["kinds"][kind]
        real, cpu = v["real"], v["training"]["cpu_minutes"]
        rows.append(f"| {model_label(m)} | {v['training']['steps']} | {cpu:.1f} | "
                    + " | ".join(f"{real['si_sdri'][t]['mean']:.2f}" for t in TRACKS)
                    + f" | {_pm(real['si_sdri']['avg'])} | {_pm(real['sdri']['avg'])} | "
                    + f"{real['si_sdri']['avg']['mean'] / cpu:.3f} |")
    from .evaluate import paired_mean_ci

    for m, r in runs.items():
        if m == first:
            continue
        a, b = r["kinds"][kind]["real"]["per_mixture"], runs[first]["kinds"][kind]["real"]["per_mixture"]
        d = {metric: paired_mean_ci(b[metric]["avg"], a[metric]["avg"]) for metric in ("si_sdri", "sdri")}
        rows += ["", f"{model_label(m)} − {model_label(first)} over the same real mixtures: avg SI-SDRi "
                 f"{_delta(d['si_sdri'], True)}, avg SDRi {_delta(d['sdri'], True)} dB."]
    return "\n".join(rows) + made_on(dict(group.values()))


#: benchmarks/tts_speech.py's runs: training seed 0 and its replication from seed 1. The default engine
#: switches only if the adoption rule holds for every one of them (decided before the replication ran).
TTS_RUNS = ("tts_speech", "tts_speech_seed1")
_TTS_FAILED = {"real_speech_cost_shrinks_beyond_ci": "the real-speech cost did not shrink beyond its interval",
               "build_within_limit": "the build took over the limit",
               "bit_reproducible": "the build is not bit-reproducible",
               "not_worse_on_real_speech": "the neural-voice model is worse on the real test set's speech track"}


def _tts_build(res: dict) -> str:
    """How long a run's variant build took, with the load it was measured under when recorded."""
    build = res["variant"]
    load = build.get("build", {}).get("loadavg_before")
    how = f"load average {load[0]:.1f} at the start" if load else "load not recorded"
    return f"{build['build_seconds']:.0f} s ({how})"


def tts_markdown(names: tuple[str, ...] = TTS_RUNS) -> str | None:
    """The speech-engine decision for MTASS-tiny (benchmarks/tts_speech.py, every seed of :data:`TTS_RUNS`),
    in computed sentences."""
    runs = {name: _result(name) for name in names}
    if runs[names[0]] is None:
        return None
    done = {name: res for name, res in runs.items() if res is not None}
    missing = [name for name in names if name not in done]
    first = done[names[0]]
    engine, steps = first["engine"], first["settings"].get("steps")
    limit = first["decision"]["numbers"]["build_limit_seconds"]
    packages = ", ".join(f"{k} {v}" for k, v in engine["packages"].items())
    repro = all(res["variant"].get("reproducible") is True for res in done.values())
    seeds = {name: res["settings"].get("seed", 0) for name, res in done.items()}
    adopt = {name: res["decision"]["adopt"] for name, res in done.items()}
    from .data.tts import DEFAULT_ENGINE

    switched = DEFAULT_ENGINE == engine["name"]
    if not all(adopt.values()):
        head = "eSpeak NG stays"
    elif missing:
        head = "seed 0 says adopt the neural voice; its replication has not run yet"
    else:
        head = ("the neural voice is adopted" if switched else
                "the measurement says adopt the neural voice; the default is not switched yet")

    def per_seed(fmt) -> str:
        return "; ".join(f"seed {seeds[name]}: {fmt(res)}" for name, res in done.items())

    def effects(res) -> str:
        n = res["decision"]["numbers"]
        e, p = n["espeak_effect_of_real_speech"], n["piper_effect_of_real_speech"]
        return f"{e['mean']:+.2f} ± {e['ci95']:.2f} (eSpeak) vs {p['mean']:+.2f} ± {p['ci95']:.2f} (neural voice)"

    def paired(res, test_set, track) -> str:
        return _delta(res["paired"]["piper - espeak"][test_set]["si_sdri"][track], True)

    files = ", ".join(f"`results/{name}.json`" for name in done)
    text = (f"**Speech engine: {head}** (`benchmarks/tts_speech.py`, {files}). The candidate: English speakers "
            f"read by the Piper voice `{engine['voice']}` shipped inside a PyPI wheel ({packages}; Mandarin stays "
            f"eSpeak), speakers varied by accent, rate, the voice's noise and a Praat pitch/formant shift. Its "
            f"MTASS-tiny variant's build (wall clock, limit {limit:g} s) took {per_seed(_tts_build)}; it is "
            f"{'bit-identical when rebuilt' if repro else 'NOT bit-identical when rebuilt'}. Conv-TasNet lite "
            f"trained the same {steps} steps on each, from {len(done)} training seed{'s' if len(done) > 1 else ''}. "
            f"The effect of real speech (2 × 2 × 2 attribution, average SI-SDRi, dB): {per_seed(effects)}. On the "
            f"fixed real test set the neural-voice model differs on the speech track by "
            f"{per_seed(lambda r: paired(r, 'real', 'speech'))} dB SI-SDRi and averaged over the tracks by "
            f"{per_seed(lambda r: paired(r, 'real', 'avg'))} dB; on MTASS-tiny's (eSpeak) test set by "
            f"{per_seed(lambda r: paired(r, 'tiny', 'avg'))} dB. The rule: {first['decision']['rule']}; the "
            f"default switches only if it holds for seed 0 and its replication from seed 1 (decided before the "
            f"replication ran). ")
    verdicts = "; ".join(f"seed {seeds[name]}: " + ("holds" if ok else "fails — " + ", ".join(
        _TTS_FAILED.get(f, f) for f in done[name]["decision"]["failed"])) for name, ok in adopt.items())
    variant = "the variant builds with `python data_scripts/make_tiny.py --speech piper --root data/tiny_piper`"
    if not all(adopt.values()):
        return text + f"It is not adopted ({verdicts}); {variant}."
    if missing:
        return text + f"The rule holds so far ({verdicts}); `benchmarks/tts_speech.py --seed 1` decides."
    if switched:
        return text + (f"It is adopted ({verdicts}): MTASS-tiny's English speakers are read by the neural voice (its "
                       f"packages are default dependencies), and every chapter and both CPU reproductions were re-run "
                       f"on the new set. Results made before on the eSpeak build say so where they are shown (their "
                       f"`data_build`); `python data_scripts/make_tiny.py --speech espeak --root "
                       f"data/mtass_tiny_espeak` rebuilds that set.")
    return text + (f"The rule holds ({verdicts}), but MTASS-tiny still builds with {DEFAULT_ENGINE}: switching the "
                   f"default rebuilds the embedded set and moves every trained number of the course, so it lands "
                   f"together with every chapter and both CPU reproductions re-run on the new set. Until then "
                   f"{variant}.")


def shipped_markdown(name: str = "shipped_models") -> str | None:
    """The model card of what ships (benchmarks/shipped_models.py): training and scores of every shipped
    file on the real and the MTASS-tiny test sets, the issue's goal, and the default of ``separate``."""
    card = _result(name)
    if card is None or not card.get("models"):
        return None
    models, default = card["models"], card.get("default")
    thirds = card["baselines"]["real"]["mixture/3"]["sdri"]
    n_real = next(iter(models.values()))["real"]["si_sdri"]["avg"]["n"]
    rows = [f"Every shipped file (`mtass_lite/pretrained/`, `python -m mtass_lite separate --list`), scored on the "
            f"fixed real test set ({n_real} mixtures) and on MTASS-tiny's test set; SI-SDRi per track and averaged, "
            f"SDRi averaged (dB, mean ± 95 % CI; mixture/3 scores 0 SI-SDRi and "
            f"{thirds['avg']['mean']:.2f} SDRi on the real set):", "",
            "| Shipped model | training sources | steps | CPU-h | real: Speech | Music | Noise | Avg SI-SDRi "
            "| Avg SDRi | tiny: Avg SI-SDRi | goal |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    order = sorted(models, key=lambda k: -models[k]["real"]["si_sdri"]["avg"]["mean"])
    for k in order:
        v, tr = models[k], models[k]["training"]
        mark = " (default)" if k == default else ""
        rows.append(f"| `{k}`{mark} | {_md_cell(str(tr.get('sources')))} | {tr.get('steps')} | "
                    f"{tr.get('cpu_hours', float('nan')):.2f} | "
                    + " | ".join(f"{v['real']['si_sdri'][t]['mean']:.2f}" for t in TRACKS)
                    + f" | {_pm(v['real']['si_sdri']['avg'])} | {_pm(v['real']['sdri']['avg'])} | "
                    + f"{_pm(v['tiny']['si_sdri']['avg'])} | {'met' if v['goal']['met'] else 'not met'} |")
    best = models[order[0]]
    g = best["goal"]
    missing = [f"average SI-SDRi {g['real_si_sdri_avg']['value']:.2f} of {g['real_si_sdri_avg']['min']:g} dB"
               if not g["real_si_sdri_avg"]["met"] else None,
               "each track ≥ {:g} dB SI-SDRi (lowest: {} {:.2f})".format(
                   g["real_si_sdri_each_track"]["min"], *min(g["real_si_sdri_each_track"]["values"].items(),
                                                            key=lambda kv: kv[1]))
               if not g["real_si_sdri_each_track"]["met"] else None,
               _thirds_shortfall(g["real_sdri_each_track_vs_thirds"])
               if not g["real_sdri_each_track_vs_thirds"]["met"] else None,
               f"no more than {g['tiny_loss']['max_loss_db']:g} dB lost on MTASS-tiny"
               if not g["tiny_loss"]["met"] else None]
    missing = [m for m in missing if m]
    rows += ["", f"`separate` uses **`{default}`** without `--model`: of the shipped models, the best average "
             f"SI-SDRi on the real test set. "
             + ("It meets the goal." if best["goal"]["met"] else
                f"No shipped model reaches the goal yet; the best on real recordings, `{order[0]}`, misses: "
                f"{'; '.join(missing)}.") + f" The goal — {card.get('goal_rule', '').rstrip('.')}."]
    return "\n".join(rows)


def _thirds_shortfall(cond: dict) -> str:
    """The SDRi-over-mixture/3 condition of the shipped-model goal, naming each track that misses it with
    its SDRi and the SDRi it needs (mixture/3's + the margin)."""
    m = cond["margin_db"]
    short = [f"{t} {v:.2f} of {cond['mixture/3'][t] + m:.2f}" for t, v in cond["values"].items()
             if v < cond["mixture/3"][t] + m]
    return f"SDRi ≥ mixture/3 + {m:g} dB on each track ({', '.join(short)})"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


SECTIONS = {"paper_table": paper_markdown, "oracle_table": oracle_markdown, "profile_table": profile_markdown,
            "reproduction_table": reproduction_markdown, "reproduction_verdict": reproduction_verdict_markdown,
            "reproduction_released_table": lambda: reproduction_markdown("cpu_released"),
            "ranking_table": ranking_markdown, "real_table": real_markdown,
            "budget_table": budget_markdown, "augment_table": augment_markdown,
            "augment_long_table": lambda: augment_markdown("real_gap_augment_1600"),
            "attribution_table": attribution_markdown, "real_test_table": real_test_markdown,
            "real_test_verdict": real_test_verdict_markdown, "equal_budget_table": equal_budget_markdown,
            "real_test_models_table": real_test_models_markdown, "tts_decision": tts_markdown,
            "shipped_table": shipped_markdown,
            "course_table": course_markdown,
            "checks_table": checks_markdown}

# Files whose marked sections are rendered (README.md first).
RENDERED = ("README.md", "docs/course_guide.md")


def render_readme(text: str) -> str:
    """Replace every generated section of ``text`` with its current rendering."""
    for name, fn in SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} -->\n).*?(<!-- END {name} -->)", re.S)
        if not pattern.search(text):
            continue
        body = fn()
        body = body if body is not None else "_not computed yet: its results/*.json file is missing_"
        text = pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    return text


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Re-render the generated tables of README.md and docs/course_guide.md "
                                             "from results/*.json "
                                             f"(sections: {', '.join(SECTIONS)}).")
    ap.parse_args(argv)
    for name in RENDERED:
        path = Path(REPO_ROOT) / name
        if path.exists():
            path.write_text(render_readme(path.read_text()))
            print(f"rendered {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
