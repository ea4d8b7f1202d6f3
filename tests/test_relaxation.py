import json

import numpy as np
import pytest

from langevin_sim.analyses.onsets import sample_onset
from langevin_sim.analyses.relax import (
    default_times,
    distance_to_steady,
    rate_analysis,
    relax,
    settling_time,
)
from langevin_sim.cli import main
from langevin_sim.models.cascade import CascadeParameters, build_system


def _hot_magnon_start():
    """Thermal start with a hot magnon (n̄ = 1): entanglement and steering then begin
    well after t = 0, so the ensemble can resolve their onsets."""
    c = build_system().thermal_covariance()
    c[6, 6] = c[7, 7] = 1.5
    return (None, c)


@pytest.fixture(scope="module")
def report():
    return relax(initial=_hot_magnon_start(), n_traj=8192, seed=17)


def test_ensemble_agrees_with_exact_transient_at_every_time(report):
    assert report.check.consistent, report.check.summary()
    # every record time was compared (36 elements + 8 means each)
    assert report.check.n_compared == report.times.size * (36 + 8)
    assert report.times[0] == 0 and report.times[-1] == pytest.approx(5 / 0.0069443, rel=1e-3)


def test_onsets_from_ensemble_bracket_the_exact_ones(report):
    for name, onset in report.onsets.items():
        assert np.isfinite(onset.exact) and onset.exact > 1.0, name
        assert onset.brackets_exact(), (name, onset)
        assert onset.sample_high - onset.sample_low < 5.0  # resolved to a few 1/ω_b


def test_rate_analysis_finds_the_cooled_mechanics():
    r = rate_analysis(build_system())
    assert r.slowest_rate == pytest.approx(0.006944, rel=1e-3)
    assert r.slowest_mode == "b"
    assert np.allclose(r.participation.sum(axis=1), 1)


def test_settling_time_scales_as_inverse_slowest_rate():
    """Asymptotically ||σ(t) - σ∞|| ∝ e^{-2 γ_slow t}, so lowering the tolerance from 1e-2 to
    1e-4 adds ln(100)/(2 γ_slow); halving g_ab slows the optical cooling and this grows in
    proportion to 1/γ_slow."""
    from langevin_sim.gaussian import steady_state, transient
    for g in (0.5, 0.25):
        system = build_system(CascadeParameters(g_ab=g))
        rate = system.slowest_rate
        t = np.linspace(0, 25 / rate, 20001)
        _, covs = transient(system, t, system.thermal_covariance())
        d = distance_to_steady(covs, steady_state(system))
        extra = settling_time(t, d, 1e-4) - settling_time(t, d, 1e-2)
        predicted = np.log(100) / (2 * rate)
        # the residual oscillation at ~2ω_b shifts each crossing by < half a period (π/2)
        assert abs(extra - predicted) < np.pi / 2 + 0.01 * predicted, (g, extra, predicted)
    slow = build_system(CascadeParameters(g_ab=0.25)).slowest_rate
    fast = build_system(CascadeParameters(g_ab=0.5)).slowest_rate
    assert fast / slow > 3  # cooling rate ~ g_ab²: halving g_ab slows relaxation ~4x


def test_sample_onset_logic():
    times = np.arange(6.0)
    values = np.array([-1.0, -0.5, -0.1, 0.2, 0.8, 1.0])
    point, low, high = sample_onset(times, values, np.full(6, 0.1), "E_N", confidence=0.95)
    assert point == pytest.approx(2 + 0.1 / 0.3)
    assert low == 1.0 and high == 3.0  # 0.2 - 1.96·0.1 > 0 at t = 3; -0.1 + 0.196 > 0 at t = 2
    point, low, high = sample_onset(times, -np.ones(6), np.full(6, 0.1), "E_N")
    assert np.isnan(point) and np.isnan(high)


def test_default_times_are_log_spaced_and_include_zero():
    t = default_times(build_system(), None, 20)
    assert t[0] == 0 and t.size == 20
    assert np.allclose(np.diff(np.log(t[1:])), np.log(t[2] / t[1]))
    with pytest.raises(ValueError, match="n_times"):
        default_times(build_system(), None, 2)


def test_relax_cli_writes_valid_pngs_and_json(tmp_path, capsys):
    out = tmp_path / "relax"
    code = main(["relax", "--n-traj", "1024", "--n-times", "12", "--t-final", "100",
                 "--seed", "5", "--output", str(out), "--json"])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    for key in ("onsets", "settling_times", "rates", "consistent", "summary"):
        assert key in summary
    from PIL import Image
    for name, size in (("relax_variances.png", (770, 495)), ("relax_measures.png", (1210, 660)),
                       ("relax_distance.png", (770, 495))):
        path = out / name
        with open(path, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
        with Image.open(path) as im:
            im.verify()
            assert im.size == size
    assert (out / "relax_ensemble.npz").exists()
    # a saved ensemble can be the initial state of another run
    code = main(["relax", "--n-traj", "256", "--n-times", "5", "--t-final", "10",
                 "--initial", str(out / "relax_ensemble.npz")])
    assert code == 0
    assert main(["relax", "--initial", "nowhere.npz"]) == 2
