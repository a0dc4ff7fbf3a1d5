"""Trains the digits MLP, exports its `predict` as standalone C with the weights compiled in,
builds a small C program around it (examples/export_c/main.c) and checks that the program's
logits equal `jit(predict)`'s bit for bit, and its accuracy.

    python examples/export_c.py              # prints where the C went; --keep keeps it
    python examples/export_c.py --epochs 3

The generated C and the program go to a temporary directory, never into the source tree.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

import jaxlite
from jaxlite import optim
from jaxlite import random as jr

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from mlp import init_params, load_digits, make_step, predict  # noqa: E402

MAIN_C = os.path.join(os.path.dirname(os.path.abspath(__file__)), "export_c", "main.c")


def train(epochs: int, seed: int = 0):
    data_key, init_key, shuffle_key = jr.split(jr.PRNGKey(seed), 3)
    x_train, y_train, x_test, y_test = load_digits(data_key, quick=False)
    params = init_params(init_key, (x_train.shape[1], 128, 64, 10))
    opt = optim.adam(2e-3)
    opt_state, step, batch = opt.init(params), make_step(opt), 32
    for epoch in range(epochs):
        perm = np.asarray(jr.permutation(jr.fold_in(shuffle_key, epoch), len(x_train)))
        for i in range(len(x_train) // batch):
            idx = perm[i * batch : (i + 1) * batch]
            params, opt_state, _ = step(params, opt_state, x_train[idx], y_train[idx])
    return params, x_test, y_test


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--keep", action="store_true", help="keep the generated C and the program")
    args = p.parse_args(argv)

    t0 = time.perf_counter()
    params, x_test, y_test = train(args.epochs)
    print(
        f"trained the 64-128-64-10 MLP for {args.epochs} epochs in {time.perf_counter() - t0:.1f} s"
    )

    # One image per call, weights compiled in: `int digits(const float *x, float *out, void *ws)`
    x1 = jaxlite.ShapeDtypeStruct((1, x_test.shape[1]), np.float32)
    exp = jaxlite.export.to_c(predict, params, x1, name="digits", embed=("params",))
    out = tempfile.mkdtemp(prefix="jaxlite-export-c-")
    exp.write(out)
    print(f"exported {exp} to {out}: " + ", ".join(sorted(os.listdir(out))))

    with open(os.path.join(out, "images.bin"), "wb") as f:
        f.write(np.array(x_test.shape, np.int32).tobytes())
        f.write(np.ascontiguousarray(x_test, np.float32).tobytes())
        f.write(np.asarray(y_test, np.int32).tobytes())
    cc = shutil.which(os.environ.get("CC", "cc")) or "cc"
    prog = os.path.join(out, "digits_demo")
    # The flags jit compiles with (jaxlite.export.cflags()), plus strict warnings.
    cmd = [cc, *jaxlite.export.cflags(), "-Wall", "-Wextra", "-Werror", "-I", out, MAIN_C,
           os.path.join(out, "digits.c"), "-o", prog, "-lm"]  # fmt: skip
    print("$", shlex.join(cmd))
    subprocess.run(cmd, check=True)
    logits_file = os.path.join(out, "logits.bin")
    res = subprocess.run([prog, os.path.join(out, "images.bin"), logits_file],
                         check=True, capture_output=True, text=True)  # fmt: skip
    print(res.stdout.strip())
    c_logits = np.fromfile(logits_file, np.float32).reshape(len(x_test), 10)

    # jit's products on jaxlite's own kernels (as the export has them), not OpenBLAS: then the
    # same C computes the same bits.
    with jaxlite.export.own_products():
        jit_logits = np.asarray(jaxlite.jit(predict)(params, x_test))
    same = c_logits.tobytes() == jit_logits.tobytes()
    acc_c = float(np.mean(c_logits.argmax(1) == y_test))
    acc_jit = float(np.mean(jit_logits.argmax(1) == y_test))
    print(f"jit(predict): test accuracy {acc_jit:.2%}")
    print(f"C logits equal jit's bit for bit: {same}; same accuracy: {acc_c == acc_jit}")
    if not args.keep:
        shutil.rmtree(out, ignore_errors=True)
    return 0 if same and acc_c == acc_jit else 1


if __name__ == "__main__":
    sys.exit(main())
