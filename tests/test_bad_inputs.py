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
    empty = os.path.join(str(tmp), "empty.npz")
    corrupt = os.path.join(str(tmp), "corrupt.npz")
    npy = os.path.join(str(tmp), "array.npy")
    text = os.path.join(str(tmp), "text.npz")
    below = os.path.join(str(tmp), "below.npz")
    busy = os.path.join(str(tmp), "busy")
    return [
        # models, pairs, sweeps
        (["steady", "--model", "nowhere.toml"], "does not exist"),
        (["steady", "--model", "nonsense"], "neither a shipped model"),
        (["steady", "--pair", "b,q"], "unknown mode 'q'"),
        (["steady", "--pair", "b"], "--pair expects two mode names"),
        (["steady", "--pair", "b,b"], "two different modes"),
        (["steady", "--model", "optomech", "--set", "kappa1=3"], "unknown parameter 'kappa1'"),
        (["steady", "--model", "optomech", "--set", "kappa=-1"], "kappa is a decay rate"),
        (["sweep", "--axis", "kappa1=1:2"], "NAME=START:STOP:N"),
        (["sweep", "--axis", "kapa=1:2:3"], "unknown sweep axis 'kapa'"),
        (["sweep"], "one or two --axis"),
        (["steady", "--model", "optomech", "--branch", "-1"], "--branch must be >= 0"),
        # the read-out
        (["detect", "--records", "10"], "--records"),
        (["detect", "--confidence", "1.5"], "--confidence must be in (0.5, 1)"),
        (["detect", "--set", "eta_d=2"], "eta_d is an efficiency"),
        (["detect", "--set", "g_probe=x"], "not a number"),
        (["detect", "--repetitions", "-1"], "--repetitions must be >= 0"),
        (["detect", "--seed", "-1"], "argument --seed: expected an integer >= 0"),
        # the paper's parameters
        (["steady", "--set", "kapa1=3"], "unknown parameter 'kapa1'"),
        (["steady", "--set", "eta=1.5"], "eta is an efficiency"),
        (["steady", "--set", "kappa1=-1"], "kappa1 is a decay rate"),
        (["steady", "--set", "kappa1"], "NAME=VALUE"),
        (["steady", "--set", "T=hot"], "not a number"),
        (["steady", "--bogus"], "unrecognized arguments"),
        # files
        (["relax", "--initial", empty], "not a readable .npz"),
        (["relax", "--initial", corrupt], "not a readable .npz"),
        (["relax", "--initial", npy], "single .npy array"),
        (["relax", "--initial", text], "not a readable .npz"),
        (["relax", "--initial", below], "not a quantum state"),
        (["relax", "--initial", "steady"], "--initial must be thermal, vacuum"),
        (["relax", "--t-final", "1e-6"], "shorter than the fastest relaxation time"),
        (["validate", "--burn-in", "-1"], "argument --burn-in: expected a finite number >= 0"),
        (["validate", "--seed", "-1"], "argument --seed: expected an integer >= 0"),
        (["simulate", "--seed", "x"], "argument --seed: expected an integer >= 0"),
        (["detect", "--seed", "-5"], "argument --seed: expected an integer >= 0"),
        (["validate", "--n-traj", "-3"], "argument --n-traj: expected a positive integer"),
        (["simulate", "--dt", "0"], "argument --dt: expected a positive finite number"),
        (["validate", "--n-traj", "4"], "needs at least 8"),
        (["relax", "--n-traj", "8"], "needs at least 8"),
        (["validate", "--dt", "1e-300"], "trajectory-steps"),
        (["validate", "--dt", "1e-12"], "above the limit"),
        (["relax", "--t-final", "1e7"], "above the limit"),
        (["validate", "--method", "rk4"], "invalid choice"),
        (["validate", "--alpha", "2"], "--alpha must be in (0, 1)"),
        (["steady", "--set", "T=-1"], "T is a temperature"),
        (["steady", "--set", "eta"], "NAME=VALUE"),
        (["figures", "--set", "T=1"], "unrecognized arguments"),
        # switch-on
        (["switch-on", "--ramp", "linear"], "needs --ramp-time"),
        (["switch-on", "--ramp-time", "5"], "applies to --ramp linear or smooth"),
        (["switch-on", "--ramp", "fast"], "invalid choice"),
        (["switch-on", "--set", "drive_power_w=-1"], "drive_power_w must be"),
        (["switch-on", "--set", "drive_power_w=x"], "is not a number"),
        (["switch-on", "--set", "drive_power_w=1e-6", "--set", "drive_amplitude=3"],
         "either drive_power_w or drive_amplitude"),
        (["switch-on", "--model", "cascade"], "has no drive"),
        (["switch-on", "--record-every", "0.03"], "must be a multiple of dt"),
        (["switch-on", "--t-final", "2"], "need at least 4"),
        (["switch-on", "--n-traj", "8"], "needs at least 8"),
        (["switch-on", "--method", "exact"], "invalid choice"),
        (["validate", "--method", "exp-heun"], "is for nonlinear models"),
        (["validate", "--model", "cascade-full", "--initial", "thermal"],
         "starts in the scheme's own steady state"),
        (["switch-on", "--method", "em", "--dt", "0.02"], "diverges at this mean field"),
        (["switch-on", "--output", afile], "exists and is not a directory"),
        (["figures", "--fig", "5"], "invalid choice"),
        (["figures", "--mc-check", "-1"], "--mc-check must be >= 0"),
        (["simulate", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler and --workers need"),
        (["sweep", "--axis", "T=a:b:3"], "must be numbers"),
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
        # an output directory another run is writing (its lock held: see _busy)
        (["relax", "--output", busy], "being written by another langevin-sim run"),
        (["sweep", "--axis", "T=0:0.1:3", "--output", busy], "being written by another"),
        (["switch-on", "--output", busy], "being written by another"),
        (["detect", "--output", busy], "being written by another"),
        (["figures", "--output", busy], "being written by another"),
        # hostile inputs (issue 23): bounded work, one line naming the option, key or file
        (["steady", "--model", os.path.join(str(tmp), "power.toml")],
         "beyond the range of a double"),
        (["steady", "--model", os.path.join(str(tmp), "long.toml")], "at most 1000 characters"),
        (["steady", "--model", os.path.join(str(tmp), "deep.toml")], "nest at most 100 levels"),
        (["steady", "--model", os.path.join(str(tmp), "bigint.toml")],
         "beyond the range of a double (about 1.8e308) (parameters.g"),
        (["steady", "--model", os.path.join(str(tmp), "pi.toml")], "'pi' is reserved"),
        (["steady", "--model", os.path.join(str(tmp), "ramp.toml")], "drives[0].ramp_time, line"),
        (["steady", "--model", "/dev/zero"], "not a regular file"),
        (["steady", "--model", os.path.join(str(tmp), "fifo.toml")], "not a regular file"),
        (["steady", "--model", os.path.join(str(tmp), "huge.toml")], "a model file may have"),
        (["steady", "--set", "kappa1=1e308"], "kappa1 = 1e+308 loses all precision"),
        (["steady", "--model", "optomech", "--set", "pi=3"], "unknown parameter 'pi'"),
        (["steady", "--set", "T=" + "x" * 100000], "characters in all) is not a number"),
        (["validate", "--n-traj", "1" + "0" * 26], "--n-traj: expected a positive integer <= "),
        (["relax", "--initial", os.path.join(str(tmp), "strings.npz")],
         "'covariance' must be an array of real numbers"),
        (["relax", "--initial", os.path.join(str(tmp), "objects.npz")], "holds an object array"),
        (["relax", "--initial", os.path.join(str(tmp), "complex.npz")], "dtype complex128"),
    ]


def _bad_files(tmp):
    import numpy as np
    (tmp / "empty.npz").write_bytes(b"")
    (tmp / "corrupt.npz").write_bytes(b"PK\x03\x04 this is not a zip archive")
    np.save(tmp / "array.npy", np.eye(8))
    (tmp / "text.npz").write_text("covariance = identity\n")
    np.savez(tmp / "below.npz", covariance=0.3 * np.eye(8))
    # hostile model files and initial states (issue 23)
    model = "[parameters]\ng = {}\n[modes.a]\n[[damping]]\nmode = \"a\"\nrate = \"g\"\n"
    (tmp / "power.toml").write_text(model.format('"9**9**9**9"'))
    (tmp / "long.toml").write_text(model.format('"' + "+".join(["1"] * 100000) + '"'))
    (tmp / "deep.toml").write_text(model.format('"' + "-" * 900 + '1"'))
    (tmp / "bigint.toml").write_text(model.format("1" + "0" * 400))
    (tmp / "pi.toml").write_text("[parameters]\npi = 0.1\n[modes.a]\n")
    (tmp / "ramp.toml").write_text("[modes.a]\n[[drives]]\nmode = \"a\"\n"
                                   "amplitude = [1.0, 0.0]\nramp_time = [1]\n")
    (tmp / "huge.toml").write_text("#" * (2 << 20))
    os.mkfifo(tmp / "fifo.toml")  # opening it would block: it must never be opened
    np.savez(tmp / "strings.npz", covariance=np.array([["a", "b"], ["c", "d"]]))
    np.savez(tmp / "objects.npz", covariance=np.array([{}, None], dtype=object))
    np.savez(tmp / "complex.npz", covariance=(1 + 1j) * np.eye(8))


@pytest.fixture()
def _busy(tmp_path):
    """``tmp_path/busy``, locked as a running langevin-sim holds its --output directory."""
    import fcntl

    (tmp_path / "busy").mkdir()
    fd = os.open(tmp_path / "busy", os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    yield
    os.close(fd)


def test_bad_inputs_exit_2_with_one_line_before_any_work(tmp_path, afile, capsys, _busy):
    _bad_files(tmp_path)
    rows = table(tmp_path, afile)
    assert len(rows) >= 30
    for argv, fragment in rows:
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


def test_unreachable_scheduler_fails_within_the_connect_timeout(capsys):
    import time

    pytest.importorskip("distributed")
    from langevin_sim.backends import CONNECT_TIMEOUT
    t0 = time.perf_counter()
    assert main(["validate", "--backend", "dask", "--scheduler", "tcp://127.0.0.1:1",
                 "--n-traj", "64"]) == 2
    err = capsys.readouterr().err
    assert "cannot reach the Dask scheduler" in err and err.count("\n") == 1
    assert time.perf_counter() - t0 < CONNECT_TIMEOUT + 20


def test_broken_pipe_gives_one_line_and_status_2():
    import subprocess
    import sys

    code = ("import sys\nfrom langevin_sim.cli import main\n"
            "sys.exit(main(['steady', '--json']))")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader is gone before anything is written (`| head` exited)
    err = proc.stderr.read().decode()
    assert proc.wait() == 2
    assert "output pipe closed" in err and "Traceback" not in err


# -- Dask scheduler addresses that are not schedulers (issue 23): local sockets only ------------
@pytest.fixture()
def listener():
    """``listener(reply)``: a TCP listener on 127.0.0.1 that accepts every connection and
    sends ``reply`` (nothing: a listener that never answers); yields its port."""
    import socket
    import threading

    sockets = []

    def start(reply: bytes) -> int:
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        sockets.append(server)

        def serve():
            while True:
                try:
                    conn, _ = server.accept()
                except OSError:  # closed at the end of the test
                    return
                sockets.append(conn)
                if reply:
                    conn.sendall(reply)

        threading.Thread(target=serve, daemon=True).start()
        return server.getsockname()[1]

    yield start
    for s in sockets:
        s.close()


@pytest.mark.parametrize("reply, fragment", [
    (b"", "no Dask handshake"),  # accepts, then never answers: distributed alone waits forever
    (b"HTTP/1.1 400 Bad Request\r\n\r\n", "as an HTTP server"),  # read as a 3.5e18-byte frame
])
def test_a_port_that_is_not_a_scheduler_gives_one_line(listener, monkeypatch, capsys, reply,
                                                        fragment):
    pytest.importorskip("distributed")
    import langevin_sim.backends.dask as dask_backend
    monkeypatch.setattr(dask_backend, "CONNECT_TIMEOUT", 1)  # the documented 10 s, shortened
    port = listener(reply)
    assert main(["validate", "--backend", "dask", "--scheduler", f"tcp://127.0.0.1:{port}",
                 "--n-traj", "64"]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1 and "Traceback" not in err, err


def test_the_handshake_probe_lets_a_real_scheduler_through():
    distributed = pytest.importorskip("distributed")
    from langevin_sim import build_system
    from langevin_sim.backends import DaskBackend
    from langevin_sim.engine import simulate
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=":0") as cluster:
        with DaskBackend(cluster.scheduler_address) as backend:
            remote = simulate(build_system(), [0.0, 1.0], n_traj=64, seed=5, backend=backend)
    local = simulate(build_system(), [0.0, 1.0], n_traj=64, seed=5)
    assert (remote.groups.m2 == local.groups.m2).all()  # bit-identical, as any backend
