"""Bad command-line input: exit status 2, one line on stderr, no traceback, nothing written,
and checked before any computation (the output paths included)."""

import os

import pytest

from langevin_sim.cli import main


@pytest.fixture()
def afile(tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    return str(f)


def table(tmp, afile):
    missing = os.path.join(str(tmp), "no", "such", "dir", "out.npz")
    return [
        (["simulate", "--output", ""], "--output must name a file"),
        (["simulate", "--output", str(tmp)], "is a directory"),
        (["simulate", "--output", missing], "does not exist"),
        (["simulate", "--output", "."], "--output must name a file"),
        (["relax", "--output", afile], "exists and is not a directory"),
        (["relax", "--output", os.path.join(afile, "sub")], "cannot create the directory"),
        (["relax", "--output", ""], "--output must name a directory"),
        (["sweep", "--axis", "T=0:0.1:3", "--output", afile], "exists and is not a directory"),
        (["detect", "--output", os.path.join(afile, "sub")], "cannot create the directory"),
        (["figures", "--output", afile], "exists and is not a directory"),
        (["steady", "--model", str(tmp)], "cannot read model file"),
        (["steady", "--model", afile], "not valid TOML"),
        (["validate", "--pair", "a1,z"], "unknown mode 'z'"),
        (["relax", "--model", "optomech", "--set", "gamma=-1"], "gamma is a decay rate"),
        (["simulate", "--model", "cascade-full", "--set", "g0=nan"], "must be finite"),
        (["sweep", "--axis", "T=0:0.1:3", "--axis", "T=0:1:2"], "different parameters"),
        (["sweep", "--axis", "T=0:0.1:0"], "1 <= N <= 2001"),
        (["sweep", "--axis", "eta=0:2:3"], "eta is an efficiency"),
    ]


def test_bad_inputs_exit_2_with_one_line_before_any_work(tmp_path, afile, capsys):
    for argv, fragment in table(tmp_path, afile):
        before = sorted(os.listdir(tmp_path))
        assert main(argv) == 2, argv
        captured = capsys.readouterr()
        assert fragment in captured.err, (argv, captured.err)
        assert captured.err.count("\n") == 1 and "Traceback" not in captured.err, argv
        assert captured.out == "", argv
        assert sorted(os.listdir(tmp_path)) == before, argv  # nothing half-written


def test_output_file_reports_the_name_written(tmp_path, capsys):
    target = tmp_path / "noext"
    assert main(["simulate", "--n-traj", "64", "--t-final", "2", "--output", str(target)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {target}.npz" in out and (tmp_path / "noext.npz").exists()
