"""Serve with gunicorn (2 workers) and load pages with wrk, else with a small load generator."""

import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USER_AGENT = "cession-bench/1"
CONNECTIONS = 4


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(port, path, cookie=None, method="GET", body=None, headers=None):
    """One request to 127.0.0.1: (status, headers dict of lists, body bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    all_headers = {"User-Agent": USER_AGENT, **(headers or {})}
    if cookie:
        all_headers["Cookie"] = cookie
    conn.request(method, path, body=body, headers=all_headers)
    resp = conn.getresponse()
    data = resp.read()
    found = {}
    for name, value in resp.getheaders():
        found.setdefault(name.lower(), []).append(value)
    conn.close()
    return resp.status, found, data


def _session_cookie(headers):
    for value in headers.get("set-cookie", []):
        if value.startswith("session="):
            return value.split(";", 1)[0]
    return None


def log_in(port, login, password):
    """Log in through the real form once; returns the session cookie ("session=...")."""
    status, headers, body = get(port, "/login")
    match = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', body)
    cookie = _session_cookie(headers)
    form = {"login": login, "password": password}
    if match:
        form["csrf_token"] = match.group(1).decode()
    status, headers, _ = get(
        port,
        "/login",
        cookie=cookie,
        method="POST",
        body=urllib.parse.urlencode(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if status != 302:
        raise RuntimeError(f"log-in as {login} failed: HTTP {status}")
    return _session_cookie(headers) or cookie


class Gunicorn:
    """``gunicorn -w 2 bench.wsgi_bench:app`` on 127.0.0.1, with the bench settings."""

    def __init__(self, env):
        self.port = free_port()
        full_env = {**os.environ, **env, "BASE_URL": f"http://127.0.0.1:{self.port}"}
        full_env.pop("FLASK_DEBUG", None)
        cmd = [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{self.port}"]
        cmd += ["--log-level", "warning", "bench.wsgi_bench:app"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=full_env)
        self._wait_ready()

    def _wait_ready(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("gunicorn exited at start")
            try:
                if get(self.port, "/bare/")[0] == 200 and len(self.worker_pids()) == 2:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not start")

    def worker_pids(self):
        """The pids of the worker processes (children of the gunicorn master)."""
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                pids.append(int(stat.parent.name))
        return pids

    def peak_rss_mb(self, field="VmHWM"):
        """The largest VmHWM (peak resident set) among the workers, in MB; ``field="VmRSS"``
        gives the resident set now instead."""
        peaks = []
        for pid in self.worker_pids():
            text = Path(f"/proc/{pid}/status").read_text()
            match = re.search(field + r":\s+(\d+) kB", text)
            if match:
                peaks.append(int(match.group(1)) / 1024)
        return round(max(peaks), 1) if peaks else None

    def stop(self):
        """Stop the master (it stops its workers)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# ---------------------------------------------------------------- load
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse_wrk(output):
    """Throughput and latency percentiles (ms) from ``wrk --latency`` output."""
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for pct in ("50", "99"):
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        result[f"p{pct}_ms"] = round(float(match.group(1)) * _UNITS[match.group(2)], 3)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result["bad_responses"] = int(bad.group(1)) if bad else 0
    result["socket_errors"] = sum(map(int, errors.groups())) if errors else 0
    return result


def run_wrk(port, path, seconds, cookie=None):
    """Load one page with wrk (1 thread, CONNECTIONS connections)."""
    cmd = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency"]
    cmd += ["-H", f"User-Agent: {USER_AGENT}"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(f"http://127.0.0.1:{port}{path}")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, timeout=seconds + 30)
    return parse_wrk(out.stdout)


def run_threads(port, path, seconds, cookie=None):
    """Fallback load generator: CONNECTIONS threads, one request at a time each."""
    latencies, bad, lock = [], [0], threading.Lock()
    deadline = time.perf_counter() + seconds

    def worker():
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            status = get(port, path, cookie)[0]
            dt = (time.perf_counter() - t0) * 1000
            with lock:
                latencies.append(dt)
                bad[0] += status >= 400

    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(CONNECTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    return {
        "rps": round(len(latencies) / elapsed, 1),
        "p50_ms": round(cuts[49], 3),
        "p99_ms": round(cuts[98], 3),
        "bad_responses": bad[0],
        "socket_errors": 0,
    }


def load(port, path, seconds, cookie=None):
    """Warm up, then load ``path``: wrk when installed, else the thread load generator."""
    for _ in range(5):
        get(port, path, cookie)
    if shutil.which("wrk"):
        return {**run_wrk(port, path, seconds, cookie), "tool": "wrk"}
    return {**run_threads(port, path, seconds, cookie), "tool": "threads"}


def combine(results):
    """One figure of several slices of the same load: throughput averaged (the slices last
    equally long), p50 and p99 their medians, bad responses and socket errors added up."""
    return {
        "rps": round(statistics.fmean(r["rps"] for r in results), 1),
        "p50_ms": round(statistics.median(r["p50_ms"] for r in results), 3),
        "p99_ms": round(statistics.median(r["p99_ms"] for r in results), 3),
        "bad_responses": sum(r.get("bad_responses", 0) for r in results),
        "socket_errors": sum(r.get("socket_errors", 0) for r in results),
        "tool": results[0].get("tool"),
        "slices": len(results),
    }
