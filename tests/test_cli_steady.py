import json
import subprocess
import sys

from langevin_sim.cli import main


def test_steady_json_has_the_documented_keys(capsys):
    assert main(["steady", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("stable", "covariance", "E_N", "E_bm", "S_m_given_b", "S_b_given_m",
                "G_b_to_m", "G_m_to_b", "slowest_rate", "fastest_rate"):
        assert key in out
    assert out["stable"] is True
    assert len(out["covariance"]) == 8 and len(out["covariance"][0]) == 8
    assert 0 < out["E_N"] and out["S_b_given_m"] > 1


def test_steady_text_output_and_set(capsys):
    assert main(["steady", "--set", "T=0.1", "--set", "eta=0.5"]) == 0
    out = capsys.readouterr().out
    assert "slowest relaxation rate" in out and "E_N" in out and "x_b" in out


def test_unstable_point_exits_3_and_says_why(capsys):
    assert main(["steady", "--set", "delta1=-0.5"]) == 3
    assert "unstable" in capsys.readouterr().out.lower()
    assert main(["steady", "--set", "delta1=-0.5", "--json"]) == 3
    out = json.loads(capsys.readouterr().out)
    assert out["stable"] is False and "eigenvalue" in out["reason"]


def test_console_script_and_module_entry_point():
    r = subprocess.run([sys.executable, "-m", "langevin_sim", "steady", "--json"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["stable"] is True
