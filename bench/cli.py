"""Start-up cost of the `webcrypt` command: --version, --help, and `seal` of a 10 MB mail.

    python bench/cli.py                     hyperfine when installed, else its own timing
    python bench/cli.py --runs 20 --size 10000000 --timer python
    python bench/cli.py --before /tmp/webcrypt-main    also time an earlier checkout

Python's bytecode is compiled once in the warm-up (PYTHONDONTWRITEBYTECODE is ignored here;
the cache lives in the temporary folder), as it is in an installed gateway. `seal` runs
against a fresh SQLite keystore made by `webcrypt init` in a temporary folder;
the recipient's account exists after a warm-up run, so every timed run seals for a known
recipient (no argon2 PIN hash). The baseline is `age -a` (armored, like secure.htm) of the
same file to one X25519 recipient, timed in the same run.

Printed: median and min wall-clock time of each command and its mean CPU time (user +
system, which a busy machine inflates less than the wall clock), and seal's ratio to age.
hyperfine times one command after the other; `--timer python` interleaves them.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WEBCRYPT = str(Path(sys.executable).with_name("webcrypt"))


def mail_of_size(size: int) -> bytes:
    """An RFC 5322 mail with a base64 attachment of random bytes, about `size` bytes long."""
    payload = base64.encodebytes(os.urandom(size * 3 // 4)).replace(b"\n", b"\r\n")
    head = (
        b"From: invoices@bank.example\r\nTo: kunde@example.com\r\nSubject: Invoice\r\n"
        b"Message-ID: <bench@bank.example>\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        b"Content-Type: text/plain\r\n\r\nYour invoice.\r\n--b\r\n"
        b"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    return head + payload + b"\r\n--b--\r\n"


Timings = dict[str, tuple[list[float], float]]
"""Per command: the wall-clock seconds of each run, and the mean CPU seconds (user + system)."""


def time_commands(commands: dict[str, list[str]], runs: int, env: dict[str, str]) -> Timings:
    """Run each command `runs` times after one warm-up, the commands interleaved."""
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, float] = dict.fromkeys(commands, 0.0)
    for argv in commands.values():
        subprocess.run(argv, env=env, check=True, capture_output=True)
    for _ in range(runs):
        for name, argv in commands.items():  # interleaved, so drifting load hits each alike
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            subprocess.run(argv, env=env, check=True, capture_output=True)
            wall[name].append(time.perf_counter() - started)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
            cpu[name] += used / runs
    return {name: (wall[name], cpu[name]) for name in commands}


def hyperfine(commands: dict[str, list[str]], runs: int, env: dict[str, str], out: Path) -> Timings:
    """Time the commands with hyperfine (one after the other)."""
    export = out / "hyperfine.json"
    argv = ["hyperfine", "-N", "--warmup", "2", "--runs", str(runs), "--export-json", str(export)]
    for name, command in commands.items():
        argv += ["-n", name, " ".join(command)]
    subprocess.run(argv, env=env, check=True, capture_output=True)
    results = json.loads(export.read_text())["results"]
    return {r["command"]: (r["times"], r["user"] + r["system"]) for r in results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--size", type=int, default=10_000_000, help="bytes of the sealed mail")
    parser.add_argument("--timer", choices=("auto", "hyperfine", "python"), default="auto")
    parser.add_argument(
        "--before",
        metavar="DIR",
        help="a checkout of an earlier version (e.g. `git archive`): time its commands too",
    )
    args = parser.parse_args()
    use_hyperfine = args.timer == "hyperfine" or (
        args.timer == "auto" and shutil.which("hyperfine") is not None
    )

    with tempfile.TemporaryDirectory(prefix="webcrypt-bench-cli-") as folder:
        root = Path(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCRYPT_")}
        # Compiled bytecode, as an installed gateway has it (kept in the temporary folder).
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(root / "pycache")
        env.update(
            WEBCRYPT_GENERAL_DATA_DIR=str(root / "var"),
            WEBCRYPT_FILTER_INTERNAL_DOMAINS="bank.example",
            WEBCRYPT_GENERAL_LOG_LEVEL="warning",
        )
        subprocess.run([WEBCRYPT, "init"], env=env, check=True, capture_output=True)
        mail = root / "mail.eml"
        mail.write_bytes(mail_of_size(args.size))
        identity = root / "age.key"
        subprocess.run(["age-keygen", "-o", str(identity)], check=True, capture_output=True)
        recipient = next(
            line.split(": ", 1)[1]
            for line in identity.read_text().splitlines()
            if line.startswith("# public key: ")
        )
        seal = [WEBCRYPT, "seal", "--to", "kunde@example.com", "-o", str(root / "s.htm")]
        commands = {
            "webcrypt --version": [WEBCRYPT, "--version"],
            "webcrypt --help": [WEBCRYPT, "--help"],
            "webcrypt seal": [*seal, str(mail)],
            "age -a": ["age", "-a", "-r", recipient, "-o", str(root / "m.age"), str(mail)],
        }
        if args.before:
            earlier = ["env", f"PYTHONPATH={Path(args.before).resolve()}"]
            for name in ("webcrypt --version", "webcrypt --help", "webcrypt seal"):
                commands[f"{name} (before)"] = [*earlier, *commands[name]]
        if use_hyperfine:
            times = hyperfine(commands, args.runs, env, root)
        else:
            times = time_commands(commands, args.runs, env)

    load = os.getloadavg()
    timer = "hyperfine" if use_hyperfine else "python"
    print(f"{args.runs} runs each ({timer}); mail {args.size:,} bytes; load {load[0]:.2f}")
    medians = {}
    for name, (samples, cpu) in times.items():
        medians[name] = statistics.median(samples)
        print(
            f"  {name:<29} median {medians[name] * 1000:7.1f} ms  "
            f"min {min(samples) * 1000:7.1f} ms  CPU {cpu * 1000:7.1f} ms"
        )
    for name in ("webcrypt --version", "webcrypt --help", "webcrypt seal"):
        if f"{name} (before)" in medians:
            speedup = medians[f"{name} (before)"] / medians[name]
            print(f"  {name}: {speedup:.1f}x faster than before")
    ratio = medians["webcrypt seal"] / medians["age -a"]
    print(f"  seal / age -a: {ratio:.2f}x (goal <= 2)")


if __name__ == "__main__":
    main()
