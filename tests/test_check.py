"""relu-lab check: claims measured over seeds, judged holds / fails / inconclusive."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from typer.testing import CliRunner

from relu_lab.claims import FAILS, HOLDS, INCONCLUSIVE, _judge, _seeds_to_decide, check, claim_configs
from relu_lab.cli import app
from relu_lab.config import Expectation
from relu_lab.errors import UserError
from relu_lab.loading import config_from_dict, load_config

CLAIMS = Path(__file__).resolve().parents[1] / "configs" / "claims"
SHIPPED = sorted(CLAIMS.glob("*.yaml"))
DOES_NOT_HOLD = {"lit_leaky_prevents_dead", "claim_adam_revives"}  # measured honestly: see their comments


def expect(**kw) -> Expectation:
    return Expectation(setting="a", figure="success_rate", **kw)


@pytest.mark.parametrize("bound,value,lo,hi,verdict", [
    ({"at_least": 0.2}, 0.5, 0.3, 0.7, HOLDS), ({"at_least": 0.2}, 0.1, 0.02, 0.19, FAILS),
    ({"at_least": 0.2}, 0.25, 0.1, 0.4, INCONCLUSIVE), ({"at_most": 0.1}, 0.0, 0.0, 0.09, HOLDS),
    ({"at_most": 0.1}, 0.3, 0.15, 0.5, FAILS), ({"at_most": 0.1}, 0.0, 0.0, 0.19, INCONCLUSIVE),
])
def test_an_interval_is_judged_against_its_threshold(bound, value, lo, hi, verdict):
    assert _judge(expect(**bound), value, lo, hi, 16, count=round(value * 16)).verdict == verdict


def test_the_seeds_that_would_decide_are_the_fewest_whose_interval_leaves_the_threshold_out():
    from relu_lab.grid import wilson

    at_zero = _judge(expect(at_most=0.1), 0.0, 0.0, 0.19, 16, count=0)
    n = at_zero.seeds_to_decide
    assert at_zero.verdict == INCONCLUSIVE and wilson(0, n)[1] < 0.1 <= wilson(0, n - 1)[1]
    assert _seeds_to_decide(0.1, 0.0, 0.3, 16, 0.1, lambda m: wilson(round(0.1 * m), m)) is None  # on the threshold
    assert _seeds_to_decide(0.1, -0.1, 0.3, 16, 0.0) == 64  # a median: 16 * (half-width 0.2 / gap 0.1)^2
    assert _seeds_to_decide(0.1, 0.05, 0.11, 16, 0.06) == 17  # never fewer seeds than were not enough
    assert _seeds_to_decide(0.3, 0.3, 0.3, 16, 0.0) is None  # a degenerate interval: more seeds tell nothing


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_claim_checks_at_a_small_seed_count(path, tmp_path):
    cfg = load_config(path)
    verdict = check(cfg, tmp_path, seeds=12, source=str(path), base_dir=path.parent)
    assert len(verdict.measured) == len(cfg.claim.expect) and verdict.seeds == 12
    assert all(m.value is not None and m.low <= m.value <= m.high for m in verdict.measured)
    if cfg.name in DOES_NOT_HOLD:
        assert verdict.verdict == FAILS
    else:  # 12 seeds may not decide every part, but nothing may contradict the claim
        assert verdict.verdict in (HOLDS, INCONCLUSIVE), [(m.expectation, m.text()) for m in verdict.measured]


def swapped(path: Path, **changes) -> dict:
    raw = yaml.safe_load(path.read_text())
    for setting, overrides in changes.items():
        raw["claim"]["settings"][setting] = overrides
    return raw


@pytest.mark.parametrize("name,changes", [
    ("seed003_deep_xor", {"sigmoid": {"model.hidden": "relu"}, "relu": {"model.hidden": "sigmoid"}}),
    ("seed000_leaky_xor", {"right": {"model.hidden": "asker_leaky"}}),  # the asker's derivative as the right one
    ("seed001_zero_init", {"zeros": {}}),  # "zero" weights that are random after all
    ("seed001_init_deep_relu", {"wide_he": {"model.layers": [2] + [32] * 8 + [1]}}),  # He's setting with U[-1, 1]
])
def test_a_wrong_ingredient_makes_its_claim_fail(name, changes, tmp_path):
    path = CLAIMS / f"{name}.yaml"
    cfg = config_from_dict(swapped(path, **changes), str(path))
    assert check(cfg, tmp_path, seeds=12, source=str(path), base_dir=path.parent).verdict == FAILS


def test_check_writes_its_report_and_exits_0_only_when_every_claim_holds(tmp_path):
    ok = CliRunner().invoke(app, ["check", str(CLAIMS / "seed004_lr_kills.yaml"), "--seeds", "24",
                                  "--out", str(tmp_path / "a")])
    assert ok.exit_code == 0, ok.output
    assert "claim004_lr_kills: holds" in ok.output
    (run,) = (tmp_path / "a").iterdir()
    report = json.loads((run / "claims.json").read_text(), parse_constant=lambda c: pytest.fail(c))
    assert report["all_hold"] is True and report["claims"][0]["verdict"] == HOLDS
    assert report["status"] == "completed" and report["not_judged"] == []
    assert "| **claim004_lr_kills**" in (run / "report.md").read_text()
    bad = CliRunner().invoke(app, ["check", str(CLAIMS / "lit_leaky_prevents_dead.yaml"), "--seeds", "8",
                                   "--out", str(tmp_path / "b")])
    assert bad.exit_code == 1 and "fails" in bad.output


@pytest.mark.parametrize("claim,words", [
    ({"statement": "s", "source": "t", "settings": {"a": {}}, "expect": [
        {"setting": "b", "figure": "success_rate", "at_least": 0.5}]}, "unknown setting 'b'"),
    ({"statement": "s", "source": "t", "settings": {"a": {}}, "expect": [
        {"setting": "a", "figure": "dead_share", "at_least": 0.5}]}, "'layer' goes with"),
    ({"statement": "s", "source": "t", "settings": {"a": {"model.hiden": "relu"}}, "expect": [
        {"setting": "a", "figure": "cost", "at_most": 0.5}]}, "unknown key 'hiden'"),
])
def test_a_malformed_claim_is_refused_in_one_line(claim, words, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"data": {"name": "xor"}, "claim": claim}))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and words in result.output, result.output


def one_expectation(item: dict, settings: dict | None = None) -> dict:
    return {"statement": "s", "source": "t", "settings": settings or {"a": {}, "b": {}}, "expect": [item]}


@pytest.mark.parametrize("claim,words", [
    (one_expectation({"setting": "a", "figure": "dead_share", "layer": 5, "at_least": 0.5}),
     "claim.expect.0 (a: dead_share of layer 5 >= 0.5): setting a: layer 5 has no dead_L5 figure"),
    (one_expectation({"setting": "a", "figure": "identical_rate", "layer": 2, "at_least": 0.5}),
     "layer 2 has no identical_L2 figure (identical is logged for hidden layers; in this net of layers [2, 8, 1] "
     "that is layer 1)"),
    (one_expectation({"setting": "a", "figure": "identical_rate", "layer": 1, "at_least": 0.5},
                     {"a": {"model.layers": [2, 1, 1]}}), "layer 1 has 1 unit"),
    (one_expectation({"setting": "a", "figure": "r2", "at_least": 0.5}), "r2 is not measured on a classification"),
    (one_expectation({"setting": "a", "versus": "b", "figure": "success_rate", "at_least": 0.1},
                     {"a": {}, "b": {"success": None}}), "setting b: the config has no success criterion"),
    (one_expectation({"setting": "a", "figure": "test_accuracy", "at_least": 0.5}), "needs a test set"),
    (one_expectation({"setting": "a", "figure": "success_rate", "at_least": 1.0}), ">= 1 can never hold"),
    (one_expectation({"setting": "a", "figure": "success_rate", "at_most": 1.0}), "<= 1 always holds"),
    (one_expectation({"setting": "a", "versus": "b", "figure": "success_rate", "at_least": -1}), "always holds"),
    (one_expectation({"settings": ["a", "a"], "figure": "cost", "trend": "increasing"}), "settings are distinct"),
    (one_expectation({"setting": "a", "figure": "cost", "at_most": 1}, {"a": {"seed": 5}}),
     "claim.settings.a.seed: a setting cannot change 'seed'"),
    (one_expectation({"setting": "a", "figure": "cost", "at_most": 1}, {"a": {"model": {"hidden": "tanh"}}}),
     "write one key per change, e.g. 'model.hidden: ...'"),
])
def test_a_claim_its_runs_cannot_measure_is_refused_before_training(claim, words, tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"data": {"name": "xor"}, "model": {"layers": [2, 8, 1]},
                                    "success": {"metric": "accuracy", "at_least": 1.0}, "claim": claim}))
    for command in (["validate", str(path)], ["check", str(path), "--out", str(tmp_path / "runs")]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == 2 and words in " ".join(result.output.split()), result.output
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").rglob("members.csv"))  # nothing trained


def test_a_share_leaves_out_members_that_could_not_be_measured(tmp_path):
    from relu_lab.claims import measure

    ((run, plan),) = fake_sweeps(tmp_path, [[1.0, 1.0, "nan", "nan", 0.0, 1.0]])
    m = measure(Expectation(setting="a", figure="all_dead_rate", layer=1, at_least=0.1), run, plan)
    assert (m.count, m.n) == (3, 4) and m.note == "2 of 6 members without a finite value left out"
    (([run2, plan2]),) = fake_sweeps(tmp_path / "all", [["nan"] * 4])
    empty = measure(Expectation(setting="a", figure="all_dead_rate", layer=1, at_least=0.1), run2, plan2)
    assert empty.value is None and empty.verdict == INCONCLUSIVE


def test_a_trend_over_a_setting_without_values_is_not_judged_over_the_others(tmp_path):
    from relu_lab.claims import measure_trend

    dirs, plans = zip(*fake_sweeps(tmp_path, [[0.0, 0.1] * 4, [0.5, 0.6] * 4, ["nan"] * 8]))
    e = Expectation(settings=["s0", "s1", "s2"], figure="dead_share", layer=1, trend="increasing")
    m = measure_trend(e, list(dirs), list(plans))
    assert m.value is None and m.verdict == INCONCLUSIVE and "setting s2 gave no finite value" in m.note


def test_a_config_without_a_claim_is_refused(tmp_path):
    path = tmp_path / "plain.yaml"
    path.write_text("data: {name: xor}\n")
    with pytest.raises(UserError, match="no 'claim:' block"):
        claim_configs([str(path)])


def test_spearman_matches_its_definition_with_ties():
    from relu_lab.claims import _spearman

    x = np.array([0, 0, 1, 1, 2, 2], dtype=float)
    # ranks x: .5 .5 2.5 2.5 4.5 4.5, y: 5 4 2.5 2.5 1 0; centred: (-2 -2 0 0 2 2) and (2.5 1.5 0 0 -1.5 -2.5)
    assert _spearman(x, np.array([5, 4, 3, 3, 1, 0.0])) == pytest.approx(-16 / (16 * 17) ** 0.5)
    assert _spearman(x, x) == pytest.approx(1.0) and np.isnan(_spearman(x, np.ones(6)))


def fake_sweeps(tmp_path, values: list[list[float]], column: str = "dead_L1") -> list[tuple[Path, object]]:
    """(run dir, plan) of fake sweeps whose members.csv hold `values` in `column` (one list per setting)."""
    import csv as csv_module

    from relu_lab.plan import plan_sweep

    cfg = config_from_dict({"data": {"name": "xor"}, "model": {"layers": [2, 4, 1]}})
    out = []
    for i, vs in enumerate(values):
        d = tmp_path / f"s{i}"
        d.mkdir(parents=True)
        with open(d / "members.csv", "w", newline="") as fh:
            w = csv_module.writer(fh)
            w.writerow(["member", "status", column])
            w.writerows([[k, "completed", v] for k, v in enumerate(vs)])
        out.append((d, plan_sweep(cfg, [], [0])))
    return out


def trend_of(tmp_path, values: list[list[float]], trend: str):
    """measure_trend over fake sweeps whose members.csv hold `values` as dead_L1 (one list per setting)."""
    from relu_lab.claims import measure_trend

    dirs, plans = zip(*fake_sweeps(tmp_path, values))
    e = Expectation(settings=[f"s{i}" for i in range(len(values))], figure="dead_share", layer=1, trend=trend)
    return measure_trend(e, list(dirs), list(plans))


def test_newcombe_matches_the_worked_example_of_its_paper():
    from relu_lab.claims import newcombe

    # Newcombe 1998, Stat. Med. 17:873, Table II, example (a): 56/70 - 48/80, method 10: 0.0524 to 0.3339
    lo, hi = newcombe(56, 70, 48, 80)
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)
    lo, hi = newcombe(0, 10, 0, 10)  # example (h): 0/10 - 0/10: -0.2775 to 0.2775
    assert (round(lo, 4), round(hi, 4)) == (-0.2775, 0.2775)


def test_a_difference_between_two_settings_is_judged_by_its_own_interval(tmp_path):
    from relu_lab.claims import measure_difference

    a, b = fake_sweeps(tmp_path / "p", [[1.0] * 15 + [0.0] * 5, [1.0] * 2 + [0.0] * 18])  # 15/20 against 2/20
    gap = Expectation(setting="a", versus="b", figure="all_dead_rate", layer=1, at_least=0.3)
    m = measure_difference(gap, a, b)
    assert m.value == pytest.approx(0.65) and m.verdict == HOLDS and (m.count, m.n, m.versus_count, m.versus_n) == (
        15, 20, 2, 20)
    assert m.text() == "+65 pp [+35, +81] (15/20 vs 2/20)"  # newcombe(15, 20, 2, 20), formatted
    wide = measure_difference(gap.model_copy(update={"at_least": 0.6}), a, b)
    assert wide.verdict == INCONCLUSIVE and wide.low < 0.6 < wide.high and wide.seeds_to_decide > 20
    assert measure_difference(gap.model_copy(update={"at_least": 0.85}), a, b).verdict == FAILS
    # means of dead_share: 0.9 against 0.1, bootstrapped side by side
    c, d = fake_sweeps(tmp_path / "m", [[0.8, 1.0] * 8, [0.0, 0.2] * 8])
    mean_gap = measure_difference(Expectation(setting="a", versus="b", figure="dead_share", layer=1, at_least=0.5),
                                  c, d)
    assert mean_gap.value == pytest.approx(0.8) and mean_gap.verdict == HOLDS and mean_gap.low <= 0.8 <= mean_gap.high
    reverse = measure_difference(Expectation(setting="b", versus="a", figure="dead_share", layer=1, at_most=0.0),
                                 d, c)
    assert reverse.value == pytest.approx(-0.8) and reverse.verdict == HOLDS


def test_a_trend_holds_fails_or_is_undecided_by_its_interval(tmp_path):
    rising = [[0.0, 0.1, 0.05, 0.1] * 4, [0.4, 0.5, 0.45, 0.5] * 4, [0.9, 1.0, 0.95, 1.0] * 4]
    assert trend_of(tmp_path / "a", rising, "increasing").verdict == HOLDS
    assert trend_of(tmp_path / "b", rising, "decreasing").verdict == FAILS
    flat = [[0.0, 1.0] * 8, [1.0, 0.0] * 8, [0.0, 1.0] * 8]
    undecided = trend_of(tmp_path / "c", flat, "increasing")
    assert undecided.verdict == INCONCLUSIVE and undecided.low < 0 < undecided.high
    same = trend_of(tmp_path / "d", [[0.5] * 4] * 3, "increasing")
    assert same.value is None and same.verdict == INCONCLUSIVE and "no variation" in same.note


@pytest.mark.parametrize("item,words", [
    ({"settings": ["a", "b"], "figure": "cost", "trend": "rising"}, "increasing"),
    ({"settings": ["a", "b"], "figure": "cost", "trend": "increasing", "at_least": 1}, "a trend goes with"),
    ({"setting": "a", "figure": "cost", "trend": "increasing"}, "a trend goes with"),
    ({"settings": ["a", "c"], "figure": "cost", "trend": "increasing"}, "unknown setting 'c'"),
    ({"setting": "a", "versus": "c", "figure": "cost", "at_most": 0}, "claim.expect.0.versus: unknown setting 'c'"),
    ({"setting": "a", "versus": "a", "figure": "cost", "at_most": 0}, "names a second setting"),
    ({"settings": ["a", "b"], "versus": "a", "figure": "cost", "trend": "increasing"}, "without setting, versus"),
])
def test_a_malformed_trend_is_refused(item, words, tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump({"data": {"name": "xor"}, "claim": {
        "statement": "s", "source": "t", "settings": {"a": {}, "b": {}}, "expect": [item]}}))
    result = CliRunner().invoke(app, ["validate", str(path)])
    assert result.exit_code == 2 and words in result.output, result.output


def test_a_check_stopped_by_an_error_in_its_second_claim_does_not_say_all_hold(tmp_path, monkeypatch):
    import relu_lab.claims as claims_module

    paths = []
    for name in ("first", "second"):
        paths.append(tmp_path / f"{name}.yaml")
        paths[-1].write_text(yaml.safe_dump({
            "name": name, "data": {"name": "xor"}, "model": {"layers": [2, 8, 1]}, "train": {"epochs": 100},
            "success": {"metric": "accuracy", "at_least": 1.0}, "claim": {
                "statement": "s", "source": "t", "settings": {"a": {}},
                "expect": [{"setting": "a", "figure": "cost", "at_most": 10}]}}))
    real, calls = claims_module.measure, []

    def measure(e, run_dir, plan):  # the second claim's figure cannot be read
        calls.append(run_dir)
        if len(calls) == 2:
            raise UserError("a figure that cannot be read")
        return real(e, run_dir, plan)

    monkeypatch.setattr(claims_module, "measure", measure)
    result = CliRunner().invoke(app, ["check", *map(str, paths), "--seeds", "2", "--out", str(tmp_path / "runs")])
    assert result.exit_code == 2 and "a figure that cannot be read" in result.output, result.output
    (run,) = (tmp_path / "runs").iterdir()
    report = json.loads((run / "claims.json").read_text())
    assert report["status"] == "failed" and report["all_hold"] is False and report["not_judged"] == ["second"]
    assert [c["name"] for c in report["claims"]] == ["first"] and "a figure that cannot be read" in report["error"]
    assert "**Failed**" in (run / "report.md").read_text()
