"""Latency benchmark: from the Enter that ends the MFA code to the end of `exec true`,
through a TLS link with a set round-trip time (tests/peer/tls_front.py in front of the
local AWS stand-in; nothing reaches AWS).

The code is typed into a real terminal (a pseudo-terminal: the prompt reads /dev/tty),
TYPING seconds after the prompt appears, as a person would; the time measured starts
when the newline is written and ends when the process has exited. Three kinds of
profile: an MFA session with a known device, one with a discovered device, and a role
behind an MFA session. Prints a markdown table (median and min–max in ms, and in round
trips).

Usage: python scripts/bench_latency.py RTT_MS RUNS LABEL=BINARY [LABEL=BINARY ...]
"""

from __future__ import annotations

import json
import os
import platform
import pty
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from bench import Codes, Peer  # noqa: E402

TYPING = 2.0
PROMPT = b"6 digit MFA code: "


class Front:
    def __init__(self, upstream_port: int, rtt_ms: float, directory: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests/peer/tls_front.py"), str(upstream_port),
             str(rtt_ms), directory],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        info = json.loads(self.proc.stdout.readline())
        self.url = f"https://127.0.0.1:{info['port']}"
        self.ca = info["ca"]

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


def enter_to_done(argv: list[str], env: dict[str, str], code: str) -> float:
    """Start `argv` on a pseudo-terminal, wait for the prompt, type `code` TYPING
    seconds later; seconds from the newline to the exit."""
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    seen = b""
    deadline = time.monotonic() + 30
    while PROMPT not in seen:
        if time.monotonic() > deadline:
            raise RuntimeError(f"no prompt: {seen[-300:]!r}")
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                chunk = b""
            if not chunk:
                raise RuntimeError(f"exited before the prompt: {seen[-300:]!r}")
            seen += chunk
    time.sleep(TYPING)
    os.write(fd, code.encode())
    start = time.perf_counter()
    os.write(fd, b"\n")
    tail = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        tail += chunk
    _, status = os.waitpid(pid, 0)
    elapsed = time.perf_counter() - start
    os.close(fd)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{argv} failed: {tail[-500:]!r}")
    return elapsed


def main() -> None:
    rtt_ms, runs = float(sys.argv[1]), int(sys.argv[2])
    binaries = [a.split("=", 1) for a in sys.argv[3:]]
    peer = Peer()
    codes = Codes()
    home = tempfile.mkdtemp(prefix="aws-session-latency.")
    front = Front(int(peer.url.rsplit(":", 1)[1]), rtt_ms, home)
    base = {
        "HOME": home,
        "PATH": "/usr/bin:/bin",
        "AWS_ENDPOINT_URL": front.url,
        "AWS_CA_BUNDLE": front.ca,
        "AWS_CONFIG_FILE": f"{home}/config",
        "AWS_SHARED_CREDENTIALS_FILE": f"{home}/credentials",
        "XDG_CACHE_HOME": f"{home}/cache",
        "TERM": "dumb",
    }
    role = peer.call("POST", "/_peer/roles", {"name": "latency", "max_session_duration": 3600})

    def known(u: dict) -> tuple[list[str], dict[str, str]]:
        env = dict(base, AWS_ACCESS_KEY_ID=u["access_key_id"],
                   AWS_SECRET_ACCESS_KEY=u["secret_access_key"],
                   AWS_SESSION_MFADEVICE=u["mfa_serial"])
        return [], env

    def discovered(u: dict) -> tuple[list[str], dict[str, str]]:
        env = dict(base, AWS_ACCESS_KEY_ID=u["access_key_id"],
                   AWS_SECRET_ACCESS_KEY=u["secret_access_key"])
        return [], env

    def role_profile(u: dict) -> tuple[list[str], dict[str, str]]:
        d = tempfile.mkdtemp(dir=home)
        Path(d, "credentials").write_text(
            f"[base]\naws_access_key_id = {u['access_key_id']}\n"
            f"aws_secret_access_key = {u['secret_access_key']}\n")
        Path(d, "config").write_text(
            f"[profile r]\nrole_arn = {role['arn']}\nsource_profile = base\n"
            f"mfa_serial = {u['mfa_serial']}\n")
        env = dict(base, AWS_CONFIG_FILE=f"{d}/config",
                   AWS_SHARED_CREDENTIALS_FILE=f"{d}/credentials")
        return ["--profile", "r"], env

    kinds = [
        ("MFA session, known serial", known, 1),
        ("MFA session, discovered device", discovered, 1),
        ("role behind an MFA session", role_profile, 2),
    ]
    n = 0
    results: dict[tuple[str, str], list[float]] = {}
    for label, binary in binaries:
        for name, setup, _ in kinds:
            samples = []
            for _ in range(runs + 1):
                n += 1
                u = peer.user(f"lat{n}")
                args, env = setup(u)
                t = enter_to_done([binary, "--no-cache", *args, "exec", "true"], env,
                                  codes.next(u["mfa_seed"]))
                samples.append(t)
            results[(label, name)] = samples[1:]  # the first run warms the caches
    front.close()
    peer.close()

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores; "
          f"date {time.strftime('%Y-%m-%d')}; round trip {rtt_ms:.0f} ms "
          f"(TLS front tests/peer/tls_front.py, TCP + TLS 1.3 handshake = 2 round trips); "
          f"code typed {TYPING:.0f} s after the prompt; {runs} runs each, "
          "median (min–max) from Enter to the end of `exec true`")
    print()
    head = "| profile | target |"
    rule = "|---|---|"
    for label, _ in binaries:
        head += f" {label}, ms | {label}, round trips |"
        rule += "---|---|"
    print(head)
    print(rule)
    for name, _, limit in kinds:
        row = f"| {name} | ≤ {limit} round trip{'s' if limit > 1 else ''} + 60 ms |"
        for label, _ in binaries:
            s = [x * 1000 for x in results[(label, name)]]
            med = statistics.median(s)
            row += f" {med:.0f} ({min(s):.0f}–{max(s):.0f}) | {med / rtt_ms:.2f} |"
        print(row)


if __name__ == "__main__":
    main()
