"""Learning quality of bf16 against fp32: the same recipe trained with both precisions
from the same seeds, each model evaluated on a held-out project.

    python tools/compare_precision.py TRAIN_DIR TEST_DIR [--seeds 0-19] [--preset quick]
        [--actionlab .build/release/actionlab] [--work /tmp/precision-runs] [--log FILE]

For every seed and precision: a fresh copy of TRAIN_DIR (its labels.csv imported, no
.actionlab carried over), `actionlab train --preset P --seed S --precision X`, then
`actionlab eval` of the checkpoint train writes (best validation accuracy) and of the
run's last one, on TEST_DIR. Prints a line per run and, at the end, each precision's mean
accuracy and the paired difference (bf16 - fp32) with its standard error over the seeds.

One run's accuracy on a small set moves by several points from seed to seed, so a gap of
a point needs many seeds to show or to rule out; the standard error says how far the
measured difference can be trusted. Uses only the Python standard library.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys


def seeds(text):
    first, _, last = text.partition("-")
    return range(int(first), int(last or first) + 1)


def accuracy(output, what):
    match = re.search(r"^accuracy ([0-9.]+)", output, re.M)
    if not match:
        sys.exit(f"eval of the {what} gave no accuracy:\n{output}")
    return 100 * float(match.group(1))


def run(cmd, what):
    # train reports on stderr (its progress and where it wrote the checkpoints), eval on stdout.
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        sys.exit(f"{what} failed ({' '.join(cmd)}):\n{result.stdout}")
    return result.stdout


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("train")
    parser.add_argument("test")
    parser.add_argument("--seeds", type=seeds, default=seeds("0-19"), help="first-last (default 0-19)")
    parser.add_argument("--preset", default="quick")
    parser.add_argument("--actionlab", default=".build/release/actionlab")
    parser.add_argument("--work", default="/tmp/precision-runs", help="where the project copies are made")
    parser.add_argument("--log", help="also append each run's line to this file")
    args = parser.parse_args()
    binary = os.path.abspath(args.actionlab)
    os.makedirs(args.work, exist_ok=True)

    results = {}   # (precision, seed) -> (best %, last %)
    for seed in args.seeds:
        for precision in ("fp32", "bf16"):
            project = os.path.join(args.work, f"{precision}-{seed}")
            shutil.rmtree(project, ignore_errors=True)
            shutil.copytree(args.train, project, ignore=shutil.ignore_patterns(".actionlab"))
            labels = os.path.join(project, "labels.csv")
            if os.path.exists(labels):
                run([binary, "labels", "import", project, labels], f"importing {labels}")
            checkpoint = project + ".safetensors"
            trained = run([binary, "train", project, "--preset", args.preset, "--seed", str(seed),
                           "--precision", precision, "--out", checkpoint], f"training {precision} seed {seed}")
            last = re.search(r"^last checkpoint: (.+)$", trained, re.M)
            if not last:
                sys.exit(f"train printed no last checkpoint:\n{trained}")
            best_accuracy = accuracy(run([binary, "eval", "--checkpoint", checkpoint, args.test], "eval"), "best checkpoint")
            last_accuracy = accuracy(run([binary, "eval", "--checkpoint", last.group(1), args.test], "eval"), "last checkpoint")
            results[(precision, seed)] = (best_accuracy, last_accuracy)
            ending = [line for line in trained.splitlines() if "epochs in" in line][-1:]
            line = f"{precision} seed {seed}: best {best_accuracy:.1f}%, last {last_accuracy:.1f}%; {' '.join(ending)}"
            print(line, flush=True)
            if args.log:
                with open(args.log, "a") as log:
                    log.write(line + "\n")
            shutil.rmtree(project, ignore_errors=True)
            os.remove(checkpoint)

    paired = [s for s in args.seeds if ("fp32", s) in results and ("bf16", s) in results]
    for index, name in ((0, "best checkpoint"), (1, "last checkpoint")):
        fp32 = [results[("fp32", s)][index] for s in paired]
        bf16 = [results[("bf16", s)][index] for s in paired]
        differences = [b - f for f, b in zip(fp32, bf16)]
        error = statistics.stdev(differences) / len(differences) ** 0.5 if len(differences) > 1 else float("nan")
        print(f"{name}, {len(paired)} seeds: fp32 {statistics.mean(fp32):.1f}%, bf16 {statistics.mean(bf16):.1f}%, "
              f"bf16 - fp32 {statistics.mean(differences):+.1f} points (standard error {error:.1f})")


if __name__ == "__main__":
    main()
