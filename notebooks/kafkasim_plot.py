#!/usr/bin/python3
"""Charts of kafkasim results, as PNG files (`kafkasim plot DIR`) or inline in a notebook.

A sweep directory (sweep.json + sweep.csv, written by `kafkasim sweep` or `kafkasim merge`) gives
  - latency-vs-<param>.png for each swept parameter: produce and end-to-end latency percentiles (p50, p99,
    p99.9) against the parameter's values. Each line is the median over the combinations of the other
    parameters, the band their interquartile range, and the dots are the combinations themselves.
  - throughput-vs-p99.png: every point's throughput against its p99 produce latency, with the Pareto front
    (no other point has both more throughput, within 1 %, and a lower p99) drawn and labelled; points that did not
    keep up (under 95 % of their offered rate acknowledged) are hollow and not on the front. When a parameter is the
    producers' offered rate (a pointer ending in /workload/rate), the points of one configuration are joined
    in rate order, giving each configuration's latency-throughput curve.
Seeds of one point are averaged; runs whose status is not "ok" are left out (and counted in the title).

A run directory (timeseries.csv, events.jsonl, manifest.json, written by `kafkasim run --out`) gives
run-timeseries.png: throughput, produce latency, ISR size and under-replicated partitions, consumer lag,
the most utilised broker's NIC/disk/CPU, and the lowest page-cache hit ratio, per simulated second. The end
of the warm-up is marked. Fault windows are shaded on every panel: an event in events.jsonl whose "type"
starts with "fault" is a window from "time_s" to "end_s" (or "time_s" + "duration_s"); a "fault_start" and
a later "fault_end" with the same "id" (or "fault") also make one; a start without an end lasts to the end
of the run. ISR shrinks and expands are marked on the ISR panel. Operations (events of type "alter_configs",
kafka-configs --alter at a scheduled time) are dotted vertical lines on every panel, labelled with their entity.
With a summary.json that has broker requests (`requests` in it), also run-requests.png: for Produce, FetchConsumer and
FetchFollower, the share of each part of the mean request time (Kafka's RequestMetrics: request queue, local, remote,
response queue, response send), with the request rate and TotalTimeMs mean, p50 and p99 in the label.

Only the Python standard library, numpy and matplotlib (Debian's python3-matplotlib) are used; figures are
drawn by the Agg backend, without a display.
"""

import argparse
import csv
import io
import json
import math
import os
import sys

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

# Figures are made with matplotlib's object-oriented API, not pyplot: no GUI backend is ever involved (Agg draws
# them when saved), and a notebook shows each figure once, where it calls display().
PERCENTILES = [("p50", "p50"), ("p99", "p99"), ("p999", "p99.9")]
COLOURS = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]


class BadInput(Exception):
    """The directory is not what a chart needs (exit code 2)."""


# ---------------------------------------------------------------------------------------------------------
# Loading


def read_csv(path):
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        raise BadInput(f"cannot read {path}: {e.strerror}")
    return rows


def number(text):
    """A CSV cell as a float; NaN when empty or not a number."""
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def value_text(v):
    """A swept value as a label: strings bare, everything else as JSON."""
    return v if isinstance(v, str) else json.dumps(v)


def short_labels(pointers):
    """The last token of each JSON pointer ('/producers/0/config/linger.ms' -> 'linger.ms'), longer where two
    pointers would otherwise share a label."""
    labels = []
    for p in pointers:
        tokens = [t.replace("~1", "/").replace("~0", "~") for t in p.split("/")[1:]]
        n = 1
        while True:
            label = "/".join(tokens[-n:])
            others = ["/".join(q.split("/")[1:][-n:]) for q in pointers if q != p]
            if label not in others or n >= len(tokens):
                break
            n += 1
        labels.append(label)
    return labels


class Sweep:
    """A sweep directory: its definition, and one averaged record per point."""

    def __init__(self, directory):
        self.directory = directory
        try:
            with open(os.path.join(directory, "sweep.json")) as f:
                self.definition = json.load(f)
        except (OSError, ValueError) as e:
            raise BadInput(f"{directory}/sweep.json: {e}")
        self.pointers = [p["pointer"] for p in self.definition["params"]]
        self.values = [p["values"] for p in self.definition["params"]]
        self.labels = short_labels(self.pointers)
        rows = read_csv(os.path.join(directory, "sweep.csv"))
        if not rows:
            raise BadInput(f"{directory}/sweep.csv has no runs")
        for column in ("point", "status"):
            if column not in rows[0]:
                raise BadInput(f"{directory}/sweep.csv has no {column} column")
        self.failed = sum(1 for r in rows if r["status"] != "ok")
        by_point = {}
        for r in rows:
            if r["status"] == "ok":
                by_point.setdefault(int(r["point"]), []).append(r)
        self.points = []  # dicts: point, index (value index per parameter), metric -> mean over seeds
        for point in sorted(by_point):
            runs = by_point[point]
            record = {"point": point, "index": self.value_indices(point), "seeds": len(runs)}
            for key in runs[0]:
                values = [number(r[key]) for r in runs]
                if not any(math.isnan(v) for v in values):
                    record[key] = sum(values) / len(values)
            self.points.append(record)
        if not self.points:
            raise BadInput(f"{directory}/sweep.csv has no successful run")

    def value_indices(self, point):
        """The index into each parameter's values of a 1-based point number (the first parameter varies
        slowest, as kafkasim sweep numbers points)."""
        rest = point - 1
        indices = []
        for values in reversed(self.values):
            indices.append(rest % len(values))
            rest //= len(values)
        return list(reversed(indices))

    def label(self, record, skip=()):
        return ", ".join(
            f"{self.labels[d]}={value_text(self.values[d][record['index'][d]])}"
            for d in range(len(self.pointers))
            if d not in skip
        )


def read_events(directory):
    path = os.path.join(directory, "events.jsonl")
    events = []
    if os.path.exists(path):
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    events.append(json.loads(line))
                except ValueError:
                    raise BadInput(f"{path} line {n} is not JSON")
    return events


def fault_windows(events, end_s):
    """(start, end, name) of every fault, from the conventions in the module's docstring."""
    windows, open_faults = [], {}
    for e in events:
        kind = str(e.get("type", ""))
        if not kind.startswith("fault") or "time_s" not in e:
            continue
        start = float(e["time_s"])
        name = str(e.get("id", e.get("fault", kind)))
        key = e.get("id", e.get("fault", kind))
        if "end_s" in e:
            windows.append((start, float(e["end_s"]), name))
        elif "duration_s" in e:
            windows.append((start, start + float(e["duration_s"]), name))
        elif kind == "fault_end":
            if key in open_faults:
                windows.append((open_faults.pop(key), start, name))
        else:
            open_faults[key] = start
    for key, start in open_faults.items():
        windows.append((start, end_s, str(key)))
    return sorted(windows)


def operation_marks(events):
    """(time, label) of every operation, in time order: "clients bulk-loader: a=1 -b" for an "alter_configs" event,
    "delete-records events-0<1000 events-1<HW" for a "delete_records" one."""
    marks = []
    for e in events:
        if "time_s" not in e:
            continue
        if e.get("type") == "alter_configs":
            changes = " ".join(str(c) for c in e.get("changes", []))
            marks.append((float(e["time_s"]), f"{e.get('entity', '')}: {changes}".strip(": ")))
        elif e.get("type") == "delete_records":
            parts = " ".join(f"{p.get('topic')}-{p.get('partition')}<{'HW' if p.get('offset') == -1 else p.get('offset')}"
                             for p in e.get("partitions", []))
            marks.append((float(e["time_s"]), f"delete-records {parts}"))
    return sorted(marks)


# ---------------------------------------------------------------------------------------------------------
# Sweep charts


def gc_pauses(events):
    """(time, broker, pause ms) of every broker young GC in events.jsonl, in time order."""
    return sorted((float(e["time_s"]), e.get("broker"), float(e.get("pause_ms", 0)))
                  for e in events if e.get("type") == "young_gc" and "time_s" in e)


def has_latencies(point, kind):
    """Whether a point's `kind` ("produce" or "end_to_end") latencies were measured: a run in which no record sent
    after the warm-up was acknowledged (or consumed) writes count 0 and zeros for its percentiles, which are no
    latency at all and must not be drawn as one. Summaries without the count are taken as measured."""
    return point.get(f"{kind}.latency_ms.count", 1) > 0


def latency_vs_param(sweep, d):
    """Figure: latency percentiles against parameter d."""
    values = sweep.values[d]
    x = np.arange(len(values))
    fig = Figure(figsize=(11, 4.2))
    axes = fig.subplots(1, 2)
    combos = len(sweep.points) // max(1, len(values))
    for ax, kind, title in zip(axes, ("produce", "end_to_end"), ("Produce latency", "End-to-end latency")):
        lows = []
        for c, (key, name) in enumerate(PERCENTILES):
            column = f"{kind}.latency_ms.{key}"
            groups = [[p[column] for p in sweep.points
                       if p["index"][d] == i and column in p and has_latencies(p, kind)] for i in x]
            if not any(groups):
                continue
            med = np.array([np.median(g) if g else np.nan for g in groups])
            lo = np.array([np.percentile(g, 25) if g else np.nan for g in groups])
            hi = np.array([np.percentile(g, 75) if g else np.nan for g in groups])
            colour = COLOURS[c % len(COLOURS)]
            ax.fill_between(x, lo, hi, color=colour, alpha=0.12, linewidth=0)
            for i, g in enumerate(groups):
                ax.scatter(np.full(len(g), i) + (c - 1) * 0.06, g, s=9, color=colour, alpha=0.45, linewidth=0)
            ax.plot(x, med, marker="o", color=colour, label=name)
            lows.extend(v for g in groups for v in g)
        positive = [v for v in lows if v > 0]
        if positive and max(positive) / min(positive) > 20:
            ax.set_yscale("log")
        else:
            ax.set_ylim(bottom=0)
        ax.set_xticks(x)
        ax.set_xticklabels([value_text(v) for v in values])
        ax.set_xlabel(sweep.labels[d])
        ax.set_ylabel("ms")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(title="percentile", fontsize=8)
    others = f"line: median over {combos} combinations of the other parameters, band: their middle half, dots: each" if len(sweep.pointers) > 1 else ""
    unmeasured = sum(1 for p in sweep.points if not has_latencies(p, "produce") or not has_latencies(p, "end_to_end"))
    note = f"\n{unmeasured} points without latencies (nothing acknowledged or consumed after the warm-up) left out" if unmeasured else ""
    fig.suptitle(f"Latency vs {sweep.labels[d]}" + (f" ({others})" if others else "") + failed_note(sweep) + note,
                 fontsize=10)
    fig.tight_layout()
    return fig


def failed_note(sweep):
    return f" - {sweep.failed} failed runs left out" if sweep.failed else ""


def keeps_up(point):
    """Whether a point's producers were acknowledged at least 95 % of what their open-loop schedules offered (as
    `kafkasim run`'s "not keeping up" line judges; kDemandMet). A point that did not has records queueing in its
    producers, and its latency percentiles grow with the run's length. Closed-loop and unthrottled producers offer
    no rate (an empty offered_records_per_s): they keep up by definition."""
    offered = point.get("produce.offered_records_per_s")
    acked = point.get("produce.throughput_records_per_s")
    if offered is None or acked is None or offered <= 0:
        return True
    return acked >= 0.95 * offered


def pareto_front(points, x_key, y_key, tolerance=0.01):
    """The points no other point beats on both axes (more x, less y), by increasing x. Throughputs within
    `tolerance` of each other count as equal: an open-loop workload acknowledges its offered rate give or take
    the records still in flight at the end, and that noise must not put a slower configuration on the front."""

    def beats(q, p):
        more_or_same_x = q[x_key] >= p[x_key] * (1 - tolerance)
        strictly_more_x = q[x_key] > p[x_key] * (1 + tolerance)
        return more_or_same_x and q[y_key] <= p[y_key] and (strictly_more_x or q[y_key] < p[y_key])

    front = [p for p in points if not any(q is not p and beats(q, p) for q in points)]
    return sorted(front, key=lambda p: (p[x_key], p[y_key]))


def load_dimension(sweep):
    for d, p in enumerate(sweep.pointers):
        if p.endswith("/workload/rate"):
            return d
    return None


def throughput_vs_p99(sweep):
    x_key, y_key = "produce.throughput_mib_per_s", "produce.latency_ms.p99"
    points = [p for p in sweep.points if x_key in p and y_key in p and has_latencies(p, "produce")]
    unmeasured = sum(1 for p in sweep.points if not has_latencies(p, "produce"))
    fig = Figure(figsize=(10, 6.5))
    ax = fig.subplots()
    load = load_dimension(sweep)
    # Colour by the first parameter that is not the load, marker by the second.
    dims = [d for d in range(len(sweep.pointers)) if d != load]
    markers = ["o", "s", "^", "D", "v", "P", "X", "*"]
    if load is not None:
        curves = {}
        for p in points:
            key = tuple(i for d, i in enumerate(p["index"]) if d != load)
            curves.setdefault(key, []).append(p)
        for curve in curves.values():
            curve.sort(key=lambda p: p["index"][load])
            colour = COLOURS[curve[0]["index"][dims[0]] % len(COLOURS)] if dims else COLOURS[0]
            ax.plot([p[x_key] for p in curve], [p[y_key] for p in curve], color=colour, alpha=0.35, linewidth=1)
    for p in points:
        colour = COLOURS[p["index"][dims[0]] % len(COLOURS)] if dims else COLOURS[0]
        marker = markers[p["index"][dims[1]] % len(markers)] if len(dims) > 1 else "o"
        if keeps_up(p):
            ax.scatter(p[x_key], p[y_key], color=colour, marker=marker, s=36, alpha=0.85, edgecolor="none")
        else:
            ax.scatter(p[x_key], p[y_key], facecolor="none", edgecolor=colour, marker=marker, s=36, linewidth=1.2)
    # A point that did not keep up has a p99 that says how long the run was: it is drawn hollow and not on the front.
    behind = sum(1 for p in points if not keeps_up(p))
    front = pareto_front([p for p in points if keeps_up(p)], x_key, y_key)
    if front:
        fx = [p[x_key] for p in front]
        fy = [p[y_key] for p in front]
        ax.step(fx, fy, where="post", color="black", linewidth=1.5, zorder=3, label="Pareto front")
        ax.scatter(fx, fy, facecolor="none", edgecolor="black", s=110, linewidth=1.4, zorder=4)
        right = max(fx)
        for p in front:
            # Labels of points in the right half go to their left, so that they stay inside the axes.
            left_side = p[x_key] > 0.5 * right
            ax.annotate(sweep.label(p).replace(", ", "\n"), (p[x_key], p[y_key]), xytext=(-8 if left_side else 8, 4),
                        textcoords="offset points", fontsize=7, ha="right" if left_side else "left", va="bottom",
                        bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    # Legends for the colour and marker encodings.
    handles = []
    if dims:
        for i, v in enumerate(sweep.values[dims[0]]):
            handles.append(Line2D([], [], color=COLOURS[i % len(COLOURS)], marker="o", linestyle="",
                                      label=f"{sweep.labels[dims[0]]}={value_text(v)}"))
    if len(dims) > 1:
        for i, v in enumerate(sweep.values[dims[1]]):
            handles.append(Line2D([], [], color="grey", marker=markers[i % len(markers)], linestyle="",
                                      label=f"{sweep.labels[dims[1]]}={value_text(v)}"))
    handles.append(Line2D([], [], color="black", label="Pareto front"))
    if behind:
        handles.append(Line2D([], [], color="grey", marker="o", markerfacecolor="none", linestyle="",
                              label="not keeping up (< 95 % of the offered rate acknowledged)"))
    ax.legend(handles=handles, fontsize=8, loc="upper left")
    ys = [p[y_key] for p in points if p[y_key] > 0]
    if ys and max(ys) / min(ys) > 20:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0)
    # From zero to a little past the largest throughput: when every point has about the same throughput, the
    # automatic limits would hug it and cut its markers in half.
    xs = [p[x_key] for p in points]
    ax.set_xlim(left=0, right=max(xs) * 1.08 if xs and max(xs) > 0 else None)
    ax.ticklabel_format(axis="x", useOffset=False)
    ax.set_xlabel("throughput (MiB/s acknowledged, after warm-up)")
    ax.set_ylabel("p99 produce latency (ms)")
    subtitle = " - lines join one configuration across offered rates" if load is not None else ""
    unmeasured_note = f" - {unmeasured} points without produce latencies left out" if unmeasured else ""
    behind_note = f" - {behind} not keeping up (hollow)" if behind else ""
    # The notes on a second line when there are any, so that the title fits the figure.
    notes = f"{failed_note(sweep)}{unmeasured_note}{behind_note}".removeprefix(" - ")
    ax.set_title(f"Throughput vs p99 produce latency ({len(points)} points){subtitle}" + (f"\n{notes}" if notes else ""),
                 fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    return fig


def sweep_figures(sweep):
    """[(file name, figure)] for a Sweep."""
    figures = []
    for d, label in enumerate(sweep.labels):
        safe = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in label)
        figures.append((f"latency-vs-{safe}.png", latency_vs_param(sweep, d)))
    figures.append(("throughput-vs-p99.png", throughput_vs_p99(sweep)))
    return figures


# ---------------------------------------------------------------------------------------------------------
# Run charts


class Run:
    """A run directory: its time series, events and manifest."""

    def __init__(self, directory):
        self.directory = directory
        rows = read_csv(os.path.join(directory, "timeseries.csv"))
        if not rows:
            raise BadInput(f"{directory}/timeseries.csv has no rows")
        self.columns = {k: np.array([number(r[k]) for r in rows]) for k in rows[0]}
        if "time_s" not in self.columns:
            raise BadInput(f"{directory}/timeseries.csv has no time_s column")
        self.events = read_events(directory)
        self.name, self.warmup_s = os.path.basename(os.path.normpath(directory)), None
        manifest = os.path.join(directory, "manifest.json")
        if os.path.exists(manifest):
            with open(manifest) as f:
                m = json.load(f)
            scenario = m.get("resolved_scenario", {})
            self.name = f"{scenario.get('name', self.name)}, seed {m.get('seed')}"
            self.warmup_s = seconds(scenario.get("warmup"))
        self.summary = None
        summary = os.path.join(directory, "summary.json")
        if os.path.exists(summary):
            try:
                with open(summary) as f:
                    self.summary = json.load(f)
            except (OSError, ValueError) as e:
                raise BadInput(f"{summary}: {e}")

    def broker_columns(self, suffix):
        return sorted(k for k in self.columns if k.startswith("broker") and k.endswith("_" + suffix))

    def client_columns(self):
        """(column, client.id as written in the column, "produced" or "consumed") of the per-client-id throughput."""
        found = []
        for k in sorted(self.columns):
            for kind in ("produced", "consumed"):
                suffix = f"_{kind}_mib_per_s"
                if k.startswith("client_") and k.endswith(suffix):
                    found.append((k, k[len("client_"):-len(suffix)], kind))
        return found


def seconds(text):
    """A duration as the scenario writes it ("5s", "250ms") in seconds, or None."""
    if not isinstance(text, str):
        return None
    for unit, scale in (("ns", 1e-9), ("us", 1e-6), ("ms", 1e-3), ("min", 60.0), ("h", 3600.0), ("d", 86400.0), ("s", 1.0)):
        if text.endswith(unit):
            try:
                return float(text[: -len(unit)]) * scale
            except ValueError:
                return None
    return None


def zero_based(ax, *arrays):
    """y from 0 to a tenth above the largest value, so a flat line does not sit on the frame."""
    values = [v for a in arrays for v in np.asarray(a, dtype=float).ravel() if not math.isnan(v)]
    top = max(values) if values else 0.0
    ax.set_ylim(0, top * 1.1 if top > 0 else 1.0)


def run_figure(run):
    t = run.columns["time_s"]
    end_s = float(t[-1]) if len(t) else 0.0
    fig = Figure(figsize=(10, 15))
    axes = fig.subplots(7, 1, sharex=True)
    c = run.columns

    ax = axes[0]
    shown = []
    if "throughput_mib_per_s" in c:
        ax.plot(t, c["throughput_mib_per_s"], color=COLOURS[0], label="all producers" if run.client_columns() else None)
        shown.append(c["throughput_mib_per_s"])
    # With several client.ids (summary.json "clients"), each one's share: produced solid, consumed dashed.
    for i, (key, client, kind) in enumerate(run.client_columns()):
        ax.plot(t, c[key], color=COLOURS[(i + 1) % len(COLOURS)], linestyle="-" if kind == "produced" else "--",
                linewidth=1.0, label=f"{client} {kind}")
        shown.append(c[key])
    zero_based(ax, *shown)
    ax.set_ylabel("MiB/s")
    ax.set_title("Throughput (acknowledged" + (", and by client.id: produced solid, consumed dashed)" if run.client_columns() else ")"))
    if run.client_columns():
        ax.legend(fontsize=7, ncol=3)

    ax = axes[1]
    shown = []
    for i, (key, name) in enumerate((("produce_p50_ms", "p50"), ("produce_p99_ms", "p99"))):
        if key in c:
            v = c[key].copy()
            v[v <= 0] = np.nan  # an interval without acknowledged records has no latency
            ax.plot(t, v, color=COLOURS[i], label=name)
            shown.append(v)
    zero_based(ax, *shown)
    pauses = gc_pauses(run.events)
    for at, _, _ in pauses:
        ax.axvline(at, color=COLOURS[5], linestyle=":", alpha=0.7, linewidth=0.9)
    ax.set_ylabel("ms")
    ax.set_title("Produce latency (per interval)" + (f"; dotted lines: {len(pauses)} broker young GCs" if pauses else ""))
    ax.legend(fontsize=8)

    ax = axes[2]
    if "isr_size_min" in c:
        ax.plot(t, c["isr_size_min"], color=COLOURS[0], drawstyle="steps-post", label="smallest ISR")
    if "under_replicated_partitions" in c:
        ax.plot(t, c["under_replicated_partitions"], color=COLOURS[3], drawstyle="steps-post", label="under-replicated partitions")
    if "under_min_isr_partitions" in c and any(v > 0 for v in c["under_min_isr_partitions"]):
        ax.plot(t, c["under_min_isr_partitions"], color=COLOURS[1], drawstyle="steps-post", linestyle="--",
                label="partitions under min ISR")
    for e in run.events:
        if e.get("type") in ("isr_shrink", "isr_expand"):
            ax.axvline(float(e["time_s"]), color=COLOURS[3] if e["type"] == "isr_shrink" else COLOURS[2], alpha=0.4, linewidth=0.8)
    ax.set_title("Replication (vertical lines: ISR shrinks in red, expands in green)")
    ax.legend(fontsize=8)

    ax = axes[3]
    # With more than one group, timeseries.csv has each one's lag too (group_<group>_lag_records): one line each.
    groups = sorted(k for k in c if k.startswith("group_") and k.endswith("_lag_records"))
    if groups:
        for i, k in enumerate(groups):
            ax.plot(t, c[k], color=COLOURS[(4 + i) % len(COLOURS)], label=k[len("group_"):-len("_lag_records")])
        zero_based(ax, *[c[k] for k in groups])
        ax.legend(fontsize=8)
    elif "consumer_lag_records" in c:
        ax.plot(t, c["consumer_lag_records"], color=COLOURS[4])
        zero_based(ax, c["consumer_lag_records"])
    ax.set_ylabel("records")
    ax.set_title("Consumer lag (sum over partitions" + (", by group)" if groups else ")"))

    ax = axes[4]
    shown = []
    for i, (suffix, name) in enumerate((("nic_tx_util", "NIC tx"), ("nic_rx_util", "NIC rx"), ("disk_util", "disk"), ("cpu_util", "CPU"),
                                        ("network_threads_util", "network threads"), ("io_threads_util", "I/O threads"),
                                        ("ebs_instance_util", "EBS instance limits"))):
        cols = run.broker_columns(suffix)
        if cols:
            shown.append(100 * np.nanmax(np.vstack([c[k] for k in cols]), axis=0))
            ax.plot(t, shown[-1], color=COLOURS[i], label=name)
    # EBS volumes with a burst bucket: the lowest broker's BurstBalance, dashed, on the same 0-100 % scale.
    cols = run.broker_columns("burst_balance")
    if cols:
        shown.append(100 * np.nanmin(np.vstack([c[k] for k in cols]), axis=0))
        ax.plot(t, shown[-1], color=COLOURS[7], linestyle="--", label="EBS burst balance (lowest)")
    # Behind an instance's EBS limits that burst: the lowest broker's EBSByteBalance, dotted.
    cols = run.broker_columns("ebs_byte_balance")
    if cols:
        shown.append(100 * np.nanmin(np.vstack([c[k] for k in cols]), axis=0))
        ax.plot(t, shown[-1], color=COLOURS[8 % len(COLOURS)], linestyle=":", label="EBS instance byte balance (lowest)")
    zero_based(ax, *shown)
    ax.set_ylabel("%")
    ax.set_title("Utilisation (the most utilised broker for each resource)")
    ax.legend(fontsize=8)

    ax = axes[5]
    cols = run.broker_columns("page_cache_hit_ratio")
    if cols:
        stacked = np.vstack([c[k] for k in cols])
        with np.errstate(all="ignore"):
            lowest = np.where(np.all(np.isnan(stacked), axis=0), np.nan, np.nanmin(np.where(np.isnan(stacked), np.inf, stacked), axis=0))
        ax.plot(t, 100 * lowest, color=COLOURS[5])
    ax.set_ylabel("%")
    ax.set_ylim(-5, 105)
    ax.set_title("Page-cache hit ratio of reads (the lowest broker)")

    ax = axes[6]
    # What the fullest broker stores: its logs (Kafka's Log Size) and the space its log dirs take on disk (df's used,
    # with indexes and deleted segments not yet unlinked). Retention shows as the point where they stop growing.
    shown = []
    for i, (suffix, name) in enumerate((("log_mib", "logs"), ("disk_used_mib", "disk used"))):
        cols = run.broker_columns(suffix)
        if cols:
            shown.append(np.nanmax(np.vstack([c[k] for k in cols]), axis=0))
            ax.plot(t, shown[-1], color=COLOURS[i], label=name)
    zero_based(ax, *shown)
    ax.set_ylabel("MiB")
    ax.set_title("Storage (the broker storing the most)")
    if shown:
        ax.legend(fontsize=8)
    ax.set_xlabel("simulated time (s)")

    windows = fault_windows(run.events, end_s)
    operations = operation_marks(run.events)
    for ax in axes:
        for start, end, name in windows:
            ax.axvspan(start, end, color="red", alpha=0.12, linewidth=0)
        for at, label in operations:
            ax.axvline(at, color="tab:blue", linestyle=":", linewidth=1.0)
        if run.warmup_s:
            ax.axvline(run.warmup_s, color="grey", linestyle="--", linewidth=0.8)
        ax.grid(True, alpha=0.3)
    for start, end, name in windows:
        axes[0].annotate(name, (start, 1), xycoords=("data", "axes fraction"), xytext=(2, -10), textcoords="offset points", fontsize=7, color="red")
    for at, label in operations:
        short = label if len(label) <= 48 else label[:45] + "..."
        axes[0].annotate(short, (at, 0), xycoords=("data", "axes fraction"), xytext=(2, 4), textcoords="offset points",
                         fontsize=7, color="tab:blue")
    note = " - dashed line: end of warm-up" if run.warmup_s else ""
    note += f" - shaded: {len(windows)} fault windows" if windows else ""
    note += f" - dotted: {len(operations)} operations" if operations else ""
    fig.suptitle(f"{run.name}{note}", fontsize=10)
    fig.tight_layout()
    return fig


REQUEST_PARTS = [
    ("request_queue_time_ms", "request queue"),
    ("local_time_ms", "local (I/O thread)"),
    ("remote_time_ms", "remote (purgatory)"),
    ("response_queue_time_ms", "response queue"),
    ("response_send_time_ms", "response send"),
]


def requests_figure(run):
    """Where the brokers' request time goes, per request type, or None when the run has no broker requests."""
    requests = (run.summary or {}).get("requests") or {}
    kinds = [k for k in ("Produce", "FetchConsumer", "FetchFollower") if (requests.get(k) or {}).get("count", 0) > 0]
    if not kinds:
        return None
    fig = Figure(figsize=(10, 1.8 + 0.8 * len(kinds)))
    ax = fig.subplots(1, 1)
    y = np.arange(len(kinds))[::-1]
    # Each bar is one request type's mean TotalTimeMs, split into its parts as shares (the parts add up to it).
    for i, (key, name) in enumerate(REQUEST_PARTS):
        left = np.zeros(len(kinds))
        width = np.zeros(len(kinds))
        for j, k in enumerate(kinds):
            mean_total = requests[k]["total_time_ms"]["mean"]
            if mean_total > 0:
                left[j] = 100 * sum(requests[k][p]["mean"] for p, _ in REQUEST_PARTS[:i]) / mean_total
                width[j] = 100 * requests[k][key]["mean"] / mean_total
        ax.barh(y, width, left=left, height=0.55, color=COLOURS[i], label=name)
        for j, k in enumerate(kinds):
            if width[j] >= 8:
                ax.annotate(f"{requests[k][key]['mean']:.3g} ms", (left[j] + width[j] / 2, y[j]), ha="center", va="center", fontsize=7)
    ax.set_yticks(y)
    ax.set_yticklabels(
        [
            f"{k}, {requests[k]['requests_per_s']:.0f}/s\nmean {requests[k]['total_time_ms']['mean']:.3g} ms, "
            f"p50 {requests[k]['total_time_ms']['p50']:.3g}, p99 {requests[k]['total_time_ms']['p99']:.3g}"
            for k in kinds
        ],
        fontsize=8,
    )
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of the mean TotalTimeMs (labels: the mean of each part)")
    ax.grid(True, axis="x", alpha=0.3)
    ax.legend(fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.2 if len(kinds) > 1 else -0.4))
    ax.set_title(f"{run.name} - broker request time (RequestMetrics, after the warm-up, every broker)", fontsize=10)
    fig.tight_layout()
    return fig


def run_figures(run):
    figures = [("run-timeseries.png", run_figure(run))]
    requests = requests_figure(run)
    if requests is not None:
        figures.append(("run-requests.png", requests))
    return figures


# ---------------------------------------------------------------------------------------------------------


def figures_for(directory):
    if os.path.exists(os.path.join(directory, "sweep.csv")):
        return sweep_figures(Sweep(directory))
    if os.path.exists(os.path.join(directory, "timeseries.csv")):
        return run_figures(Run(directory))
    raise BadInput(f"{directory}: expected a run directory (timeseries.csv) or a sweep directory (sweep.csv)")


def png_bytes(fig):
    """The figure as PNG bytes, e.g. for IPython.display.Image in a notebook."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
    return buffer.getvalue()


def write_figures(figures, out):
    os.makedirs(out, exist_ok=True)
    paths = []
    for name, fig in figures:
        path = os.path.join(out, name)
        # No metadata: the same results give the same bytes.
        fig.savefig(path, dpi=110, metadata={"Software": None})
        paths.append(path)
    return paths


def main(argv):
    parser = argparse.ArgumentParser(description="PNG charts of a kafkasim run or sweep directory")
    parser.add_argument("dir")
    parser.add_argument("--out", help="where to write the PNGs (default: DIR)")
    args = parser.parse_args(argv)
    try:
        paths = write_figures(figures_for(args.dir), args.out or args.dir)
    except BadInput as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for p in paths:
        print(p)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
