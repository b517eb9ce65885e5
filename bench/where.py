#!/usr/bin/env python3
"""Where a Portal profile's CPU goes: reads `perf script -F comm,tid,ip,sym,dso` output (a `bench/profile.sh`
PERF=1 profile, started with DOTNET_PerfMapEnabled=1) and puts each sample in the part of the request named by
the innermost frame that names one (leaf first). Prints each part's share and, given the CPU per request the
profiled window measured, its microseconds.
usage: perf script -i perf.data -F comm,tid,ip,sym,dso | bench/where.py <µs per request>"""
import re
import sys

# (part, pattern on a frame's symbol or library), innermost match wins; order breaks ties within one frame.
PARTS = [
    ("the JIT compiling (tiering)", r"libclrjit\.so"),
    ("the ledger: SQLite itself", r"libe_sqlite3\.so"),
    ("the ledger: Microsoft.Data.Sqlite and the writer", r"Microsoft\.Data\.Sqlite|SQLitePCL|Portal\.Billing\.(LedgerConnection|LedgerWriter)"),
    ("the ledger: Npgsql", r"\[Npgsql\]"),
    ("GC (allocation, collection)", r"gc_heap|GCHeap|WKS::|SVR::|memset"),
    ("thread pool: dispatch, spinning, waking", r"LowLevelSpinWaiter|LowLevelLifoSemaphore|ThreadPoolWorkQueue::Dispatch|PortableThreadPool|WorkerThread"),
    ("JSON: request parsing and validation", r"Portal\.Gateway\.(ChatBodyReader|ChatRequestValidator|ChatBody)|Portal\.Gateway\.Messages\.|JsonNode|JsonDocument"),
    ("JSON: writing replies and the upstream body", r"Utf8JsonWriter|JsonSerializer|System\.Text\.Json"),
    ("rate limits", r"Portal\.RateLimits"),
    ("key authentication", r"Portal\.ApiKeys|SHA256|libcrypto"),
    ("upstream call (HttpClient)", r"System\.Net\.Http|Portal\.Gateway\.HttpUpstream"),
    ("Kestrel (HTTP server)", r"Kestrel|System\.IO\.Pipelines|Microsoft\.AspNetCore\.(Routing|Http|Authentication|Authorization|Antiforgery)"),
    ("sockets (managed)", r"System\.Net\.Sockets"),
    ("Portal's gateway (billing, usage, routing)", r"\[Portal\]"),
    ("metrics and logging", r"OpenTelemetry|System\.Diagnostics\.Metrics|Microsoft\.Extensions\.Logging"),
]
COMPILED = [(name, re.compile(p)) for name, p in PARTS]


def classify(frames):
    for frame in frames:
        for name, pattern in COMPILED:
            if pattern.search(frame):
                return name
    if frames and all("kernel" in f or "[k]" in f or "vmlinux" in f or "kallsyms" in f for f in frames):
        return "kernel (no user frame): sockets, epoll, scheduling, file writes"
    if any("kallsyms" in f for f in frames[:1]):
        return "kernel under runtime or libc code"
    return "other (runtime, libc, unnamed)"


def main():
    per_request = float(sys.argv[1]) if len(sys.argv) > 1 else None
    counts, total, frames = {}, 0, []
    for line in sys.stdin:
        if not line.strip():
            if frames:
                part = classify(frames)
                counts[part] = counts.get(part, 0) + 1
                total += 1
            frames = []
        elif line.startswith(("\t", " ")):
            frames.append(line.strip())
    if frames:
        part = classify(frames)
        counts[part] = counts.get(part, 0) + 1
        total += 1
    print("| share | µs per request | part |\n|---|---|---|")
    for part, n in sorted(counts.items(), key=lambda kv: -kv[1]):
        share = n / total
        us = f"{share * per_request:.0f}" if per_request else ""
        print(f"| {share:.1%} | {us} | {part} |")
    print(f"\n{total} samples")


main()
