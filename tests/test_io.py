"""Files: results written by versions 0.1 and 0.2 still load (tests/data/README.md says how
they were made), and what cannot be read is one line naming the file."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

from langevin_sim.analyses.sweep import SweepResult, sweep
from langevin_sim.engine import EnsembleResult, simulate
from langevin_sim.io import read_npz
from langevin_sim.models.cascade import CascadeParameters, build_system

DATA = pathlib.Path(__file__).parent / "data"


@pytest.mark.parametrize("version", ["0.1", "0.2"])
def test_an_ensemble_file_of_an_earlier_version_loads(version):
    path = DATA / f"ensemble_v{version}.npz"
    r = EnsembleResult.load(path)
    assert (r.n_traj, r.seed, r.method, r.dt) == (256, 7, "exact", 1.0)
    assert r.n_chunks == 32 and r.mode_labels == ("a1", "a2", "b", "m")
    np.testing.assert_array_equal(r.times, [0.0, 2.0, 4.0])
    # the moments the loader rebuilds from the chunks' (0.1) or groups' (0.2) sums are the
    # ones that version computed and saved beside them
    saved, _ = read_npz(path)
    for k in ("mean", "covariance", "mean_stderr", "covariance_stderr"):
        np.testing.assert_allclose(getattr(r, k), saved[k], rtol=1e-12, atol=1e-15, err_msg=k)
    est = r.measures()  # the pair the run recorded: (b, m)
    assert est.names[0] == "E_N" and np.all(np.isfinite(est.values[1:]))


def test_ensemble_files_of_earlier_versions_merge_with_new_runs():
    old = EnsembleResult.load(DATA / "ensemble_v0.2.npz")
    new = simulate(build_system(), old.times, n_traj=256, seed=8, chunk_size=8)
    both = old.merge(new)
    assert both.n_traj == 512 and both.n_chunks == 64
    # the same run written by the two versions shares its seed: merging them would count
    # those trajectories twice, and is refused
    with pytest.raises(ValueError, match="share the chunks of seed"):
        old.merge(EnsembleResult.load(DATA / "ensemble_v0.1.npz"))


@pytest.mark.parametrize("version", ["0.1", "0.2"])
def test_a_sweep_file_of_an_earlier_version_loads(version):
    r = SweepResult.load(DATA / f"sweep_v{version}.npz")
    assert r.axes == ("eta", "T") and r.pair == ("b", "m") and r.version == f"{version}.0"
    assert r.parameters_at((0, 1)) == CascadeParameters(eta=0.5, T=0.1)
    # the physics did not change: today's sweep gives the numbers that version saved
    now = sweep(axes={"eta": [0.5, 1.0], "T": [0.01, 0.1]})
    np.testing.assert_array_equal(now.stable, r.stable)
    for k, v in r.values.items():
        np.testing.assert_allclose(now.values[k], v, rtol=1e-9, atol=1e-12, err_msg=k)


def test_a_result_round_trips_through_its_file(tmp_path):
    r = simulate(build_system(), [0.0, 2.0], n_traj=64, seed=3, chunk_size=8)
    r.save(tmp_path / "r.npz")
    back = EnsembleResult.load(tmp_path / "r.npz")
    np.testing.assert_array_equal(back.covariance, r.covariance)
    assert back.metadata["pair"] == ["b", "m"] and back.seed == 3


def test_what_is_not_a_result_file_is_one_line(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("not an archive")
    cut = tmp_path / "cut.npz"
    cut.write_bytes((DATA / "sweep_v0.2.npz").read_bytes()[:300])  # a save that stopped
    for path, what in ((text, "a text file or other data"), (cut, "corrupted .npz archive")):
        for load in (EnsembleResult.load, SweepResult.load):
            with pytest.raises(ValueError, match=what) as info:
                load(path)
            assert str(path) in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ValueError, match="no 'metadata'"):
        np.savez(tmp_path / "bare.npz", times=np.zeros(2))
        SweepResult.load(tmp_path / "bare.npz")
