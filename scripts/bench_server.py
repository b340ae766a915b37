"""Benchmark the credential server of `exec --server` against nginx, and count what a
cache hit costs before it execs.

Run through `scripts/bench --server` (it sets up the venv, installs wrk, nginx and
valgrind where missing, and builds the release binary). Everything runs on 127.0.0.1.

1. The server: `aws-session exec --server` on a session from the local AWS stand-in,
   its child waiting; wrk (HTTP/1.1 keep-alive, the token in Authorization) for
   DURATION seconds at 1, 16, 64 and 256 connections; then nginx serving the same body
   (the same bytes, fetched from our endpoint) with keep-alive, in the same run. Peak
   RSS is the kernel's high-water mark (VmHWM) of each process after all runs.
2. A cache hit, `exec true`, with and without AWS_CA_BUNDLE: instructions before the
   exec (valgrind's callgrind, dumped when execve is entered, so the command itself is
   not counted), and wall time against `/usr/bin/env true` (medians of RUNS interleaved runs).

Usage: python scripts/bench_server.py BINARY [DURATION] [RUNS] [STATIC_BINARY]
(the wall times are of STATIC_BINARY when given, the release binary users get; callgrind
counts the glibc BINARY, whose libc names execve for the dump)
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import importlib.util  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench", Path(__file__).with_name("bench.py"))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

CONNECTIONS = (1, 16, 64, 256)
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def wrk(url: str, connections: int, seconds: int, headers: dict[str, str]) -> dict:
    """One wrk run: requests/s, p99 latency (ms), non-2xx answers, socket errors."""
    threads = min(2, connections)
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    for k, v in headers.items():
        argv += ["-H", f"{k}: {v}"]
    out = subprocess.run(argv + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)\b", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": rps,
        "p99_ms": float(p99.group(1)) * scale,
        "non2xx": int(non2xx.group(1)) if non2xx else 0,
        "errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def vm_hwm_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmHWM for {pid}")


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def start_server(binary: str, env: dict[str, str], home: str) -> tuple[subprocess.Popen, str, str]:
    """`exec --server` with a child that writes the endpoint and waits for `done`."""
    ep, done = f"{home}/endpoint", f"{home}/done"
    script = (f'printf "%s %s" "$AWS_CONTAINER_CREDENTIALS_FULL_URI" "$AWS_CONTAINER_AUTHORIZATION_TOKEN"'
              f" > {ep}.tmp && mv {ep}.tmp {ep}; while [ ! -e {done} ]; do sleep 0.2; done")
    proc = subprocess.Popen([binary, "exec", "--server", "sh", "-c", script], env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    began = time.time()
    while not os.path.exists(ep):
        if proc.poll() is not None or time.time() - began > 30:
            raise RuntimeError("exec --server did not start")
        time.sleep(0.05)
    url, token = Path(ep).read_text().split(" ", 1)
    return proc, url, token


def start_nginx(body: bytes, workdir: Path) -> tuple[subprocess.Popen, str]:
    # The body in the config (a file in our private temporary directory would be
    # unreadable to nginx's workers): JSON has no quote nginx would need escaped but \.
    text = body.decode().replace("\\", "\\\\").replace("'", "\\'")
    port = free_port()
    conf = workdir / "nginx.conf"
    conf.write_text(f"""
worker_processes auto;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
    client_body_temp_path {workdir};
    proxy_temp_path {workdir};
    fastcgi_temp_path {workdir};
    uwsgi_temp_path {workdir};
    scgi_temp_path {workdir};
    server {{
        listen 127.0.0.1:{port};
        location = /credentials {{
            default_type application/json;
            add_header Cache-Control no-store;
            return 200 '{text}';
        }}
    }}
}}
""")
    proc = subprocess.Popen(["nginx", "-c", str(conf), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/credentials"
    began = time.time()
    while True:
        try:
            with urllib.request.urlopen(url) as r:
                if r.read() == body:
                    return proc, url
                raise RuntimeError("nginx serves another body")
        except OSError:
            pass
        except RuntimeError:
            proc.terminate()
            raise
        if proc.poll() is not None or time.time() - began > 20:
            proc.terminate()
            raise RuntimeError("nginx did not start")
        time.sleep(0.05)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def instructions_before_exec(binary: str, env: dict[str, str], workdir: Path) -> int:
    """Instructions of `BINARY exec true` up to its execve (callgrind parts summed)."""
    out = workdir / "cg"
    for old in workdir.glob("cg*"):
        old.unlink()
    subprocess.run(["valgrind", "--tool=callgrind", "--dump-before=execv*",
                    f"--callgrind-out-file={out}", binary, "exec", "true"],
                   env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=True)
    total = 0
    parts = sorted(workdir.glob("cg.*"))
    if not parts:
        raise RuntimeError("callgrind dumped nothing before the exec")
    for part in parts:
        m = re.search(r"^summary:\s+(\d+)", part.read_text(), re.M)
        total += int(m.group(1)) if m else 0
    return total


def main() -> None:
    binary = sys.argv[1]
    seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    timed = sys.argv[4] if len(sys.argv) > 4 else binary
    peer = bench.Peer()
    codes = bench.Codes()
    home = tempfile.mkdtemp(prefix="aws-session-bench-server.")
    u = peer.user("server")
    env = {
        "HOME": home, "PATH": "/usr/bin:/bin", "AWS_ENDPOINT_URL": peer.url,
        "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": f"{home}/config",
        "AWS_SHARED_CREDENTIALS_FILE": f"{home}/credentials", "XDG_CACHE_HOME": f"{home}/cache",
        "TERM": "dumb", "AWS_ACCESS_KEY_ID": u["access_key_id"],
        "AWS_SECRET_ACCESS_KEY": u["secret_access_key"], "AWS_SESSION_MFADEVICE": u["mfa_serial"],
    }
    bench.run([binary, "--code", codes.next(u["mfa_seed"]), "exec", "true"], env)
    workdir = Path(home) / "work"
    workdir.mkdir()

    # 1. The server and nginx, side by side.
    server, url, token = start_server(binary, env, home)
    nginx = None
    rows = []
    try:
        req = urllib.request.Request(url, headers={"Authorization": token})
        with urllib.request.urlopen(req) as r:
            body = r.read()
        nginx, nginx_url = start_nginx(body, workdir)
        for n in CONNECTIONS:
            ours = wrk(url, n, seconds, {"Authorization": token})
            theirs = wrk(nginx_url, n, seconds, {"Authorization": token})
            rows.append((n, ours, theirs))
        ours_rss = vm_hwm_kib(server.pid)
        nginx_rss = max(vm_hwm_kib(p) for p in [nginx.pid, *children(nginx.pid)])
    finally:
        Path(home, "done").write_text("")
        server.wait(timeout=30)
        if nginx is not None:
            nginx.terminate()
            nginx.wait(timeout=10)

    # 2. A cache hit with and without AWS_CA_BUNDLE.
    with_ca = dict(env, AWS_CA_BUNDLE=CA_BUNDLE)
    counts = {
        "cache hit, `exec true`": instructions_before_exec(binary, env, workdir),
        f"cache hit, `exec true`, AWS_CA_BUNDLE={CA_BUNDLE}": instructions_before_exec(binary, with_ca, workdir),
    }
    # Interleaved, so that a busy moment of the machine falls on all three alike.
    samples: dict[str, list[float]] = {"no bundle": [], "bundle": [], "env": []}
    for _ in range(runs):
        samples["no bundle"].append(bench.run([timed, "exec", "true"], env)[0])
        samples["bundle"].append(bench.run([timed, "exec", "true"], with_ca)[0])
        samples["env"].append(bench.run(["/usr/bin/env", "true"], env)[0])
    times = {k: statistics.median(v) for k, v in samples.items()}
    env_true = times["env"]
    peer.close()
    shutil.rmtree(home, ignore_errors=True)

    print(f"Machine: {os.uname().machine}, {os.cpu_count()} cores; date {time.strftime('%Y-%m-%d')}; "
          f"wrk {seconds} s per cell (2 threads, 1 at 1 connection), keep-alive, the {len(body)}-byte "
          f"body; nginx {nginx_version()} `worker_processes auto` serving the same bytes\n")
    print("| connections | aws-session req/s | p99 ms | non-2xx | errors | nginx req/s | p99 ms | non-2xx | errors | ours / nginx |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for n, o, t in rows:
        print(f"| {n} | {o['rps']:,.0f} | {o['p99_ms']:.2f} | {o['non2xx']} | {o['errors']} | "
              f"{t['rps']:,.0f} | {t['p99_ms']:.2f} | {t['non2xx']} | {t['errors']} | {o['rps'] / t['rps']:.2f}× |")
    print()
    print(f"Peak RSS after all runs: aws-session `exec --server` {ours_rss / 1024:.1f} MiB, "
          f"nginx worker {nginx_rss / 1024:.1f} MiB.\n")
    which = "static binary" if timed != binary else "glibc binary"
    print("| start-up | instructions before exec (callgrind, glibc binary) | wall time "
          f"({which}), median of {runs} | vs `env true` |")
    print("|---|---:|---:|---:|")
    for (name, count), t in zip(counts.items(), (times["no bundle"], times["bundle"])):
        print(f"| {name} | {count:,} | {t * 1000:.2f} ms | {t / env_true:.2f}× |")
    print(f"| `/usr/bin/env true` | | {env_true * 1000:.2f} ms | 1.00× |")


def nginx_version() -> str:
    out = subprocess.run(["nginx", "-v"], capture_output=True, text=True).stderr
    return out.strip().split("/")[-1]


if __name__ == "__main__":
    main()
