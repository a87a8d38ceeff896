"""Benchmark plumbing: a small keep-alive asyncio HTTP load generator, process start/stop, memory readings.

The load generator is deliberately lean (raw HTTP/1.1 over asyncio streams, one process) so that on a small
machine it leaves as much CPU as possible to the servers it measures; every server in one run is measured
with the same generator, so the ratios are fair even where absolute numbers are not.
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")


@dataclass(frozen=True)
class LoadResult:
    """What one load run measured."""

    requests: int
    errors: int
    seconds: float
    latencies_ms: Sequence[float]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    def summary(self) -> str:
        return (
            f"{self.rate:8.1f} req/s  p50 {self.percentile(0.5):7.1f} ms  p99 {self.percentile(0.99):7.1f} ms"
            f"  ({self.requests} ok, {self.errors} errors)")


def _request_bytes(method: str, url: str, headers: dict[str, str], body: bytes) -> bytes:
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: keep-alive"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """(status, keep-alive) after consuming one response (Content-Length or chunked body)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, keep, chunked = 0, True, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "connection" and value == "close":
            keep = False
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return status, keep


async def _worker(url: str, payload: bytes, deadline: float, warm_until: float, expect: int,
                  latencies: list[float], counters: list[int]) -> None:
    parts = urlsplit(url)
    reader = writer = None
    while time.perf_counter() < deadline:
        if writer is None:
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        assert reader is not None
        started = time.perf_counter()
        try:
            writer.write(payload)
            status, keep = await _read_response(reader)
        except (OSError, asyncio.IncompleteReadError):
            counters[1] += 1
            writer = None
            continue
        finished = time.perf_counter()
        if warm_until <= finished <= deadline:        # throughput: completions inside the window
            if status == expect:
                counters[0] += 1
                latencies.append((finished - started) * 1000)
            else:
                counters[1] += 1
        if not keep:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


def load(url: str, *, method: str = "GET", headers: dict[str, str] | None = None, body: bytes = b"",
         concurrency: int = 16, seconds: float = 5.0, warmup: float = 1.0, expect: int = 200) -> LoadResult:
    """Send the same request from `concurrency` keep-alive connections for warmup + seconds;
    count the latter."""
    return load_many(url, [(method, headers or {}, body)] * concurrency, seconds=seconds, warmup=warmup,
                     expect=expect)


def load_many(url: str, requests_: list[tuple[str, dict[str, str], bytes]], *, seconds: float,
              warmup: float = 1.0, expect: int = 200) -> LoadResult:
    """One keep-alive connection per (method, headers, body), e.g. one user each, for warmup + seconds."""
    payloads = [_request_bytes(method, url, headers, body) for method, headers, body in requests_]
    latencies: list[float] = []
    counters = [0, 0]

    async def run() -> None:
        start = time.perf_counter()
        warm_until = start + warmup
        deadline = warm_until + seconds
        await asyncio.gather(*(_worker(url, payload, deadline, warm_until, expect, latencies, counters)
                               for payload in payloads))

    asyncio.run(run())
    return LoadResult(requests=counters[0], errors=counters[1], seconds=seconds, latencies_ms=latencies)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Block until something accepts connections on port (raises if process dies first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on {port} within {timeout}s")


def start(command: list[str], *, env: dict[str, str], port: int,
          cwd: str | None = None) -> subprocess.Popen[bytes]:
    """Start a server in its own process group and wait until it listens."""
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    wait_for_port(port, process)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server started by start() and everything it forked."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def rss_mib(pid: int) -> float:
    """Resident memory of one process, MiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]            # idle + iowait
    return sum(fields) - idle, sum(fields)


def settle(*, below: float = 0.15, window: float = 0.5, timeout: float = 15.0) -> float:
    """Wait until the machine is idle (busy share under `below` over `window` seconds), so that work a server
    left running after its turn (a Node GC, requests still queued) is not billed to the next one measured.
    Returns the seconds waited."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        busy0, total0 = _cpu_times()
        time.sleep(window)
        busy1, total1 = _cpu_times()
        if total1 > total0 and (busy1 - busy0) / (total1 - total0) < below:
            break
    return time.monotonic() - began


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds one process has used so far (0.0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_during(groups: dict[str, list[int]], run: Callable[[], T]) -> tuple[T, dict[str, list[float]]]:
    """run()'s result, and the CPU seconds each process of each group used meanwhile (negative for one that
    exited meanwhile: its time is lost)."""
    before = {name: [cpu_seconds(pid) for pid in pids] for name, pids in groups.items()}
    result = run()
    return result, {name: [cpu_seconds(pid) - start for pid, start in zip(pids, before[name], strict=True)]
                    for name, pids in groups.items()}


# gunicorn's workers accept a round's new connections as they happen to wake, and now and then one of them
# gets most or all: its threads then fight over one GIL while the other core idles, which halves a cheap
# endpoint's rate and a slower one's far less. A round whose busiest worker used more than this share of the
# workers' CPU is such a round: printed, never judged.
BALANCED_SHARE = 0.75


def busiest_share(used: Sequence[float]) -> float:
    """The share of these processes' CPU that the busiest one used; 1.0 when one exited meanwhile (its time is
    lost, so the split is unknown) or none ran."""
    total = sum(used)
    return max(used) / total if used and total > 0 and min(used) >= 0 else 1.0


def pss_mib(pid: int) -> float:
    """Proportional memory of one process, MiB: its own pages plus its share of pages it shares with others
    (forked workers share the master's imported code, which RSS counts again in every process)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def process_tree(pid: int) -> list[int]:
    """pid and its children (gunicorn's master and workers)."""
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True,
                              check=False).stdout.split()
    return [pid, *(int(child) for child in children)]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
