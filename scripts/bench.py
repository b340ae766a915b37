"""Benchmark aws-session against what the original bash tool did through the AWS CLI.

Run through scripts/bench (it sets up the venv and builds the binaries). Everything talks
to the local AWS stand-in (tests/peer/aws_peer.py) on 127.0.0.1; nothing reaches AWS.
Each measurement is repeated N times; the table shows medians (and min–max).

Usage: python scripts/bench.py BINARY STATIC_BINARY [RUNS]
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _load_totp():
    """scripts/totp (no .py suffix) as a module: one TOTP implementation for both."""
    import importlib.machinery
    import importlib.util

    loader = importlib.machinery.SourceFileLoader("totp_script", str(ROOT / "scripts/totp"))
    spec = importlib.util.spec_from_loader("totp_script", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module.totp


totp = _load_totp()


class Peer:
    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests/peer/aws_peer.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        line = self.proc.stdout.readline()
        self.url = f"http://127.0.0.1:{json.loads(line)['port']}"

    def call(self, method: str, path: str, body: object | None = None) -> object:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            return json.load(r)

    def user(self, name: str) -> dict:
        return self.call("POST", "/_peer/users", {"name": name, "mfa": True})

    def log(self) -> list[dict]:
        return self.call("GET", "/_peer/log")

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class Codes:
    """Fresh TOTP codes for a device: the peer accepts steps t-1, t, t+1, each once."""

    def __init__(self) -> None:
        self.used: set[tuple[str, int]] = set()

    def next(self, seed: str) -> str:
        now = int(time.time()) // 30
        for step in (now, now + 1, now - 1):
            if (seed, step) not in self.used:
                self.used.add((seed, step))
                return totp(seed, step)
        raise RuntimeError("no unused code left for this device in this window")


def run(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall time (s) of one run; fails loudly on a non-zero exit."""
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        err = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"{argv[:4]}... exited {proc.returncode}: {err}")
    return elapsed, 0


def peak_rss_kib(argv: list[str], env: dict[str, str]) -> int:
    """Peak RSS (KiB) of one run, measured by GNU time (its own fork is tiny, unlike
    Python's, whose pre-exec copy wait4 would count)."""
    with tempfile.NamedTemporaryFile("r") as out:
        proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", out.name, *argv], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip()
            raise RuntimeError(f"{argv[:4]}... exited {proc.returncode}: {err}")
        return int(out.read().strip().splitlines()[-1])


def summary(samples: list[float], scale: float = 1000.0) -> tuple[float, str]:
    med = statistics.median(samples) * scale
    return med, f"{med:.1f} ({min(samples) * scale:.1f}–{max(samples) * scale:.1f})"


def main() -> None:
    binary, static_binary = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    peer = Peer()
    codes = Codes()
    home = tempfile.mkdtemp(prefix="aws-session-bench.")
    venv_bin = str(Path(sys.executable).parent)
    base_env = {
        "HOME": home,
        "PATH": f"{venv_bin}:/usr/bin:/bin",
        "AWS_ENDPOINT_URL": peer.url,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": f"{home}/config",
        "AWS_SHARED_CREDENTIALS_FILE": f"{home}/credentials",
        "XDG_CACHE_HOME": f"{home}/cache",
        "TERM": "dumb",
    }
    rows: list[tuple[str, str, str]] = []

    def user_env(u: dict, with_serial: bool) -> dict[str, str]:
        env = dict(base_env)
        env["AWS_ACCESS_KEY_ID"] = u["access_key_id"]
        env["AWS_SECRET_ACCESS_KEY"] = u["secret_access_key"]
        if with_serial:
            env["AWS_SESSION_MFADEVICE"] = u["mfa_serial"]
        return env

    users = [peer.user(f"bench{i}") for i in range(runs * 4 + 8)]
    pool = iter(users)

    # 1. A fresh session + `exec true`: ours (known serial), ours (discovery),
    #    the original's AWS CLI sequence, and one `aws sts get-session-token`.
    def ours(with_serial: bool, exe: str) -> tuple[list[float], list[int]]:
        times, rss = [], []
        for _ in range(runs):
            u = next(pool)
            env = user_env(u, with_serial)
            t, r = run([exe, "--no-cache", "--code", codes.next(u["mfa_seed"]), "exec", "true"], env)
            times.append(t)
            rss.append(r)
        return times, rss

    def original() -> tuple[list[float], list[int]]:
        times, rss = [], []
        for _ in range(runs):
            u = next(pool)
            env = user_env(u, False)
            env["CODE"] = codes.next(u["mfa_seed"])
            script = (
                'user=$(aws sts get-caller-identity --output text --query Arn) && user=${user##*/} && '
                'mfa=$(aws iam list-mfa-devices --user-name "$user" --output text '
                '--query "MFADevices[*].SerialNumber") && '
                'aws sts get-session-token --serial-number "$mfa" --token-code "$CODE" --output text '
                '--query "Credentials.[AccessKeyId,SecretAccessKey,SessionToken,Expiration]" >/dev/null && '
                "exec true"
            )
            t, r = run(["bash", "-c", script], env)
            times.append(t)
            rss.append(r)
        return times, rss

    def cli_get_session_token() -> tuple[list[float], list[int]]:
        times, rss = [], []
        for _ in range(runs):
            u = next(pool)
            env = user_env(u, False)
            t, r = run(["aws", "sts", "get-session-token", "--serial-number", u["mfa_serial"],
                        "--token-code", codes.next(u["mfa_seed"])], env)
            times.append(t)
            rss.append(r)
        return times, rss

    # Warm the page cache and the peer once before measuring.
    warm = peer.user("warm")
    run([binary, "--no-cache", "--code", codes.next(warm["mfa_seed"]), "exec", "true"], user_env(warm, True))

    t_known, _ = ours(True, static_binary)
    t_disc, _ = ours(False, static_binary)
    t_orig, _ = original()
    t_cli, _ = cli_get_session_token()

    # 4. Peak RSS, one run each under GNU time.
    u = next(pool)
    rss_known = [peak_rss_kib([static_binary, "--no-cache", "--code", codes.next(u["mfa_seed"]),
                               "exec", "true"], user_env(u, True))]
    u = next(pool)
    env = user_env(u, False)
    env["CODE"] = codes.next(u["mfa_seed"])
    env["SERIAL"] = u["mfa_serial"]
    rss_orig = [peak_rss_kib(["bash", "-c",
                              'user=$(aws sts get-caller-identity --output text --query Arn) && '
                              'aws iam list-mfa-devices --user-name "${user##*/}" >/dev/null && '
                              'aws sts get-session-token --serial-number "$SERIAL" '
                              '--token-code "$CODE" >/dev/null'], env)]
    u = next(pool)
    rss_cli = [peak_rss_kib(["aws", "sts", "get-session-token", "--serial-number", u["mfa_serial"],
                             "--token-code", codes.next(u["mfa_seed"])], user_env(u, False))]
    med_known, s_known = summary(t_known)
    med_orig, s_orig = summary(t_orig)
    rows.append(("fresh session, `exec true`, known serial (ours, static)", s_known, ""))
    rows.append(("fresh session, `exec true`, discovered serial (ours, static)", summary(t_disc)[1], ""))
    rows.append(("fresh session the original's way (3 AWS CLI calls, then exec)", s_orig,
                 f"ours is {med_orig / med_known:.0f}× faster"))
    rows.append(("one `aws sts get-session-token` (AWS CLI)", summary(t_cli)[1], ""))

    # 2. Cache hit vs `env true`.
    u = next(pool)
    env = user_env(u, True)
    run([static_binary, "--code", codes.next(u["mfa_seed"]), "exec", "true"], env)
    peer.call("POST", "/_peer/log/clear", {})
    hits, rss_hit = [], []
    cache_works = True
    for _ in range(runs):
        try:
            t, r = run([static_binary, "exec", "true"], env)
        except RuntimeError:
            cache_works = False
            break
        hits.append(t)
    if cache_works:
        rss_hit.append(peak_rss_kib([static_binary, "exec", "true"], env))
    env_true = [run(["/usr/bin/env", "true"], base_env)[0] for _ in range(runs)]
    med_env, s_env = summary(env_true)
    if cache_works:
        med_hit, s_hit = summary(hits)
        rows.append(("cache hit, `exec true` (ours, static)", s_hit, f"{med_hit / med_env:.1f}× `env true`"))
    else:
        rows.append(("cache hit, `exec true` (ours, static)", "n/a (no cache in this build)", ""))
    rows.append(("`/usr/bin/env true`", s_env, ""))
    cache_requests = len(peer.log())

    # 3. Start-up.
    ver = [run([static_binary, "--version"], base_env)[0] for _ in range(runs)]
    rows.append(("`aws-session --version` (static)", summary(ver)[1], ""))
    rss_version = peak_rss_kib([static_binary, "--version"], base_env)

    # 5. Requests per session.
    peer.call("POST", "/_peer/log/clear", {})
    u = next(pool)
    run([static_binary, "--no-cache", "--code", codes.next(u["mfa_seed"]), "exec", "true"], user_env(u, True))
    known_requests = len(peer.log())
    peer.call("POST", "/_peer/log/clear", {})
    u = next(pool)
    run([static_binary, "--no-cache", "--code", codes.next(u["mfa_seed"]), "exec", "true"], user_env(u, False))
    disc_requests = len(peer.log())
    peer.close()

    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}; "
          f"date {time.strftime('%Y-%m-%d')}; {runs} runs each, median (min–max) wall time in ms; peak RSS by GNU time\n")
    print("| measurement | time, ms | note |")
    print("|---|---|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")
    print()
    print("| resource | value |")
    print("|---|---|")
    print(f"| peak RSS, fresh session (ours, static) | {max(rss_known) / 1024:.1f} MiB |")
    if cache_works:
        print(f"| peak RSS, cache hit (ours, static) | {max(rss_hit) / 1024:.1f} MiB |")
    print(f"| peak RSS, `--version` (ours, static) | {rss_version / 1024:.1f} MiB |")
    print(f"| peak RSS, the original's way (largest of its processes) | {max(rss_orig) / 1024:.1f} MiB |")
    print(f"| peak RSS, one `aws sts get-session-token` | {max(rss_cli) / 1024:.1f} MiB |")
    print(f"| requests per session, known serial | {known_requests} |")
    print(f"| requests per session, discovered serial | {disc_requests} |")
    print(f"| requests per cache hit ({runs} runs) | {cache_requests if cache_works else 'n/a'} |")


if __name__ == "__main__":
    main()
