"""Sweeps, stability masks, figures, and the paper's claims checked on coarse sweeps."""

import json

import numpy as np
import pytest

from langevin_sim.analyses.figures import FIGURES, figure_sweeps, make_figures, mc_points
from langevin_sim.analyses.sweep import SweepResult, sweep
from langevin_sim.backends import LocalBackend
from langevin_sim.models.cascade import CascadeParameters, build_system

RES = 25  # coarse grids: claims are about regions, not fine structure


@pytest.fixture(scope="module")
def planes():
    out = {}
    for fig in FIGURES:
        out.update(figure_sweeps(fig, RES))
    return out


def test_one_way_steering_at_fig2_and_fig4_parameters(planes):
    for key in ("2ac", "2bd", "4ab"):
        r = planes[key]
        s_bm = r.values["S_b_given_m"][r.stable]
        assert np.all(s_bm > 1), key  # S_b|m absent everywhere (paper: "not plotted")
        assert np.any(r.values["S_m_given_b"][r.stable] < 1), key


def test_optimum_near_minus_omega_b_magnon_detuning(planes):
    r = planes["2ac"]
    kappa, dm = r.grids
    step = dm[1] - dm[0]
    # the claim is for bad cavities; below κ ≈ 5 ω_b the S_m|b optimum drifts to lower Δm
    for i in np.nonzero(kappa >= 5)[0]:
        for name in ("E_bm", "S_m_given_b"):
            j = np.nanargmin(r.values[name][i])
            assert abs(dm[j] + 1) <= step + 1e-12, (kappa[i], name, dm[j])


def test_correlations_grow_toward_the_instability_threshold():
    """Δ1 → 0⁺ (Δ2 = -ω_b): steering (S_m|b, G_b→m) is strongest at the threshold itself;
    entanglement (E_N, E_bm) peaks slightly above it, near Δ1 ≈ 0.25 ω_b (physics.md: check which
    measure), and all are stronger there than at the default Δ1 = ω_b."""
    r = sweep(axes={"delta1": np.linspace(0.005, 1.0, 200)})
    d1, v = r.grids[0], r.values
    assert r.stable.all()
    assert np.argmin(v["S_m_given_b"]) == 0 and np.argmax(v["G_b_to_m"]) == 0
    assert np.all(np.diff(v["S_m_given_b"]) > 0)  # monotone: weaker away from threshold
    for name, best in (("E_N", np.argmax(v["E_N"])), ("E_bm", np.argmin(v["E_bm"]))):
        assert 0.15 < d1[best] < 0.35, name
    assert v["E_bm"][0] < v["E_bm"][-1] and v["E_N"][0] > v["E_N"][-1]
    below = sweep(axes={"delta1": [-0.05, -0.01]})
    assert not below.stable.any()  # blue detuning: unstable


def test_entanglement_above_100_mK_at_half_efficiency_and_more_robust_than_steering():
    r = sweep(axes={"T": np.linspace(0.0, 0.4, 81), "eta": [0.5]})
    t = r.grids[0]
    ent = r.values["E_bm"][:, 0] < 1
    steer = r.values["S_m_given_b"][:, 0] < 1
    t_ent, t_steer = t[ent].max(), t[steer].max()
    assert t_ent > 0.1 and t_steer > 0.1
    assert t_ent > t_steer + 0.02
    # E_N (necessary and sufficient) survives at least as far as the Duan criterion
    assert t[r.values["E_N"][:, 0] > 0].max() >= t_ent


def test_reverse_steering_appears_in_fig3_planes(planes):
    for key in ("3ac", "3df"):
        r = planes[key]
        assert np.any(r.values["S_b_given_m"][r.stable] < 1), key


def test_paper_claim_that_s_m_given_b_is_always_stronger_does_not_hold(planes):
    """Documented deviation: where both steerings are present, S_b|m is sometimes the
    smaller (stronger) one, and magnon→phonon one-way steering also occurs."""
    for key in ("3ac", "3df"):
        v = planes[key].values
        both = (v["S_m_given_b"] < 1) & (v["S_b_given_m"] < 1)
        assert both.any()
        assert np.any(v["S_b_given_m"][both] < v["S_m_given_b"][both]), key
        assert np.any((v["S_b_given_m"] < 1) & (v["S_m_given_b"] >= 1)), key


def test_unstable_points_are_masked_and_mask_matches_eigenvalues(planes):
    r = planes["2bd"]
    assert (~r.stable).any() and r.stable.any()
    for idx in np.ndindex(r.shape):
        p = r.parameters_at(idx)
        stable = bool(np.all(build_system(p).eigenvalues.real < 0))
        assert r.stable[idx] == stable
        for name in r.values:
            assert np.isnan(r.values[name][idx]) != stable
    assert r.masked("E_bm").mask.sum() == (~r.stable).sum()


def test_sweep_save_load_and_bad_axes(tmp_path):
    r = sweep(axes={"kappa": [5.0, 10.0], "eta": [0.5, 1.0]}, backend=LocalBackend(2))
    path = tmp_path / "s.npz"
    r.save(path)
    back = SweepResult.load(path)
    assert back.axes == ("kappa", "eta") and back.version == r.version
    for k in r.values:
        np.testing.assert_array_equal(back.values[k], r.values[k])
    assert back.fixed == CascadeParameters().as_dict()
    one = sweep(axes={"kappa": [5.0, 10.0], "eta": [0.5, 1.0]}, backend=LocalBackend(1))
    np.testing.assert_array_equal(one.values["E_bm"], r.values["E_bm"])  # workers don't matter
    with pytest.raises(ValueError, match="unknown sweep axis 'kapa'"):
        sweep(axes={"kapa": [1.0]})
    with pytest.raises(ValueError, match=r"eta is an efficiency and must be in \[0, 1\]"):
        sweep(axes={"eta": [0.5, 2.0]})
    with pytest.raises(ValueError, match="one or two entries"):
        sweep(axes={})


def test_mc_points_pick_the_optimum_first(planes):
    r = planes["2ac"]
    pts = mc_points(r, 3)
    assert len(pts) == 3
    assert r.values["E_bm"][pts[0]] == np.nanmin(r.values["E_bm"])


@pytest.mark.slow
def test_figures_render_headless_with_mc_check(tmp_path):
    summary = make_figures(("4",), resolution=9, output=str(tmp_path), mc_check_points=2,
                           mc_n_traj=2048, log=lambda *a: None)
    files = summary["4"]["files"]
    from PIL import Image
    for f in files:
        if f.endswith(".png"):
            with Image.open(f) as im:
                im.verify()
    checks = json.loads((tmp_path / "fig4_mc_check.json").read_text())["4ab"]
    assert len(checks) == 2
    from scipy import stats
    z = [c[m]["z"] for c in checks for m in ("E_bm", "S_m_given_b", "E_N") if c[m]["z"] is not None]
    # Bonferroni over the compared measures at family-wise significance 0.01
    assert np.max(np.abs(z)) < stats.t.ppf(1 - 0.01 / (2 * len(z)), 31)


def test_figures_cli(tmp_path, capsys):
    from langevin_sim.cli import main
    assert main(["figures", "--fig", "4", "--resolution", "7", "--output", str(tmp_path),
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (tmp_path / "fig4.png").exists() and (tmp_path / "fig4_companion.png").exists()
    assert "4" in out["figures"]
    assert main(["figures", "--fig", "5"]) == 2
    assert main(["figures", "--set", "T=1"]) == 2
