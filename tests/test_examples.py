"""Smoke tests: every example runs to completion with small sizes (as CI does)."""

import importlib.util
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = {
    "mlp.py": ["--epochs", "2", "--quick"],
    "per_example_grads.py": ["--quick"],
    "newton_hvp.py": ["--quick", "--iters", "3"],
    "custom_vjp.py": ["--quick"],
    "inspect_jit.py": ["--quick"],
    "rnn_scan.py": ["--quick"],  # written with the control-flow work; smoke-tested here too
    "cnn.py": ["--epochs", "1", "--quick"],
    "export_c.py": ["--epochs", "1"],  # exports, compiles and runs C; checks bits against jit
}


def _run(script, args, timeout=300):
    return subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        # NB: this checkout's jaxlite, not whichever one the interpreter has installed
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(filter(None, [ROOT, os.environ.get("PYTHONPATH")])),
        },
    )


def _check_mlp_output(stdout: str) -> None:
    lines = stdout.splitlines()
    epochs = [ln for ln in lines if ln.startswith("epoch")]
    assert len(epochs) == 2
    for ln in epochs:
        for word in ("loss", "train acc", "test acc", "examples/s"):
            assert word in ln, ln
    assert any(ln.startswith("final test accuracy:") for ln in lines)


@pytest.mark.parametrize("script", sorted(EXAMPLES))
def test_example_runs(script):
    pytest.importorskip("sklearn")
    proc = _run(script, EXAMPLES[script])
    assert proc.returncode == 0, f"{script} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    assert proc.stdout.strip(), f"{script} printed nothing"
    if script == "mlp.py":
        _check_mlp_output(proc.stdout)


def test_mlp_help_lists_its_options(capsys):
    spec = importlib.util.spec_from_file_location(
        "mlp_example", os.path.join(ROOT, "examples", "mlp.py")
    )
    mlp = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mlp)
    with pytest.raises(SystemExit) as exit_info:
        mlp.parse_args(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--epochs", "--batch-size", "--lr", "--hidden", "--seed"):
        assert flag in out
    args = mlp.parse_args(["--hidden", "16,8", "--epochs", "3"])
    assert args.hidden == (16, 8) and args.epochs == 3
