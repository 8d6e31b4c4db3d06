"""Benchmark `webcrypt serve` start-up: the first start on an empty folder, then restarts.

    python bench/startup.py            one first start and three restarts
    python bench/startup.py --runs 5   five restarts

Each run starts `webcrypt serve` in a temporary folder whose webcrypt.toml sets free
loopback ports, and measures the time until the portal answers /healthz. The first start
creates the keystore, the keys and the outbox; a restart finds them. Printed next to the
time Python needs to start and import nothing (the floor of any start), with the load
average, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import free_port


def start_once(folder: Path, port: int) -> float:
    """Start serve in `folder`; return the seconds until /healthz answers, then stop it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEBCRYPT_")}
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "webcrypt.cli.main", "serve"],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                    return time.monotonic() - started
            except OSError:
                if process.poll() is not None:
                    raise SystemExit("webcrypt serve stopped before it answered") from None
                time.sleep(0.05)
    finally:
        process.terminate()
        process.wait(30)


def python_floor() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="restarts to measure")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    floor = python_floor()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        smtp, http = free_port(), free_port()
        (folder / "webcrypt.toml").write_text(
            f'[filter]\nlisten = "127.0.0.1:{smtp}"\n[portal]\nlisten = "127.0.0.1:{http}"\n',
            encoding="utf-8",
        )
        first = start_once(folder, http)
        again = [start_once(folder, http) for _ in range(args.runs)]
    print(f"python start:   {floor:6.2f} s")
    print(f"first start:    {first:6.2f} s  ({first / floor:5.1f} x python start)")
    for index, seconds in enumerate(again, 1):
        print(f"restart {index}:      {seconds:6.2f} s  ({seconds / floor:5.1f} x python start)")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
