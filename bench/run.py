"""`make bench`: lc-recover's speed and memory side by side with the alternatives, in one run.

1. Module overhead: N tasks of connections.dr.lc_scheduler (state: status) against N tasks of
   ansible.builtin.command running the same wsadmin call, interleaved in one playbook against a
   simulated cell; then the module's own work alone (a stand-in wsadmin that answers at once):
   the lc_scheduler binary against the same module written in Python (bench/py_scheduler.py).
2. wsadmin launches and wall time of playbooks/recover.yml on a damaged cell (seven apps, 1,000
   communities, 500+ orphans, 2 s JVM start-up) against bench/task_per_call.yml (one wsadmin run
   per documented command); the latter's full launch count is computed, its time measured on a
   bounded subset (2 apps, 4 orphans) and extrapolated per kind of task (labelled so).
3. Export and report reading at 10k, 100k and 1M resources: lc_core's streaming readers
   (bench binary `lc-bench`) against Python's ElementTree.iterparse and html.parser
   (bench/readers.py), with `cat FILE > /dev/null` as the ceiling.
4. lc_orphan with 10,000 orphans (one wsadmin launch) and the consolidated report of 100,000
   differences (lc_core::recovery).
5. The owners' messages of 100, 1,000 and 10,000 communities to contact (three per owner): one
   connections.dr.lc_owner_messages task against one ansible.builtin.template task per community
   (measured on 50 communities, extrapolated per community; labelled so).

Everything is measured in this run, on this machine; ratios compare figures taken minutes apart
at most. Peak memory is each child's maxrss, read by GNU time. Work files go to build/bench/
(the generated big files are kept there for the next run).

    python bench/run.py [--only 1,2,3,4,5] [--messages 1000,10000] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
RELEASE = REPO / "target" / "x86_64-unknown-linux-gnu" / "release"  # .cargo/config.toml
BUILD = REPO / "build" / "bench"
DATA = BUILD / "data"
WORK = BUILD / "run"
VENV_BIN = Path(sys.executable).parent
LC_SIM = RELEASE / "lc-sim"
LC_BENCH = RELEASE / "lc-bench"
LC_BENCH_HTML5EVER = RELEASE / "lc-bench-html5ever"
TIME = "/usr/bin/time"  # GNU time (Debian package `time`)
APPS = ["Activities", "Blog", "IdeationBlog", "Files", "Forum", "Wiki", "StatusUpdates"]
TASK = "LifecycleRetryQueuedEvents"
GETTASK = f'execfile("communitiesAdmin.py"); print CommunitiesScheduler.getTaskDetails("{TASK}")'

# The damaged cell of part 2: 1,000 communities, Communities restored to a 35-day-old backup.
CELL_COMMUNITIES, CELL_SEED, BACKUP_AGE = 1000, 1, 35
STARTUP_DELAY = 2.0

RESULTS: list[tuple[str, bool, str]] = []


# --- helpers ---------------------------------------------------------------------------------

def say(text: str = "") -> None:
    print(text, flush=True)


def heading(text: str) -> None:
    say()
    say(f"== {text} " + "=" * max(0, 94 - len(text)))


def target(name: str, ok: bool, detail: str) -> None:
    RESULTS.append((name, ok, detail))
    say(f"  {'PASS ' if ok else 'SHORT'}  {name}: {detail}")


def table(rows: list[list[str]], header: list[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, *rows]:
        say("  " + "  ".join(str(c).rjust(w) if i else str(c).ljust(w)
                             for i, (c, w) in enumerate(zip(r, widths))))


class Child:
    """One finished child process: wall seconds, peak RSS, output. The peak is GNU time's %M (the
    child's own maxrss): a child started straight from this Python process would report at least
    this process's peak, which the kernel carries over into it at exec."""

    def __init__(self, cmd, *, cwd=None, env=None, stdin=subprocess.DEVNULL, check=True):
        with tempfile.TemporaryFile() as err_file, tempfile.NamedTemporaryFile("r") as rss_file:
            start = time.perf_counter()
            proc = subprocess.Popen([TIME, "-f", "%M", "-o", rss_file.name, *map(str, cmd)], cwd=cwd,
                                    env=env, stdin=stdin, stdout=subprocess.PIPE, stderr=err_file)
            out = proc.stdout.read()
            proc.stdout.close()
            self.rc = proc.wait()
            self.wall = time.perf_counter() - start
            err_file.seek(0)
            err = err_file.read()
            lines = rss_file.read().split()
        self.maxrss_kb = int(lines[-1]) if lines and lines[-1].isdigit() else 0
        self.out = out.decode("utf-8", "replace")
        self.err = err.decode("utf-8", "replace")
        if check and self.rc != 0:
            raise RuntimeError(f"{' '.join(map(str, cmd))} exited {self.rc}:\n{self.out[-2000:]}\n{self.err[-2000:]}")

    def json(self) -> dict:
        return json.loads(self.out.strip().splitlines()[-1])


def lc_sim(*args) -> str:
    return Child([LC_SIM, *args]).out


def cell_info(cell: Path) -> dict:
    return json.loads((cell / "cell.json").read_text())


def launches(cell: Path) -> int:
    return int(json.loads(lc_sim("status", cell))["launches"])


def fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    path.chmod(0o755)
    return path


def ansible_env(times: Path, extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(REPO / "build" / "collections"),
        "ANSIBLE_CALLBACK_PLUGINS": str(BENCH / "callback"),
        "ANSIBLE_CALLBACKS_ENABLED": "lc_bench_times",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_LOCALHOST_WARNING": "False",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "False",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "LC_BENCH_TIMES": str(times),
        "PATH": f"{VENV_BIN}{os.pathsep}{RELEASE}{os.pathsep}{env.get('PATH', '')}",
    })
    env.update(extra or {})
    return env


def playbook(path: Path, log: Path, times: Path, *, inventory: list[str], extra_vars: Path | None = None,
             env: dict | None = None) -> tuple[int, float, list[dict]]:
    """Runs ansible-playbook; returns its exit status, wall time and the timing records."""
    times.unlink(missing_ok=True)
    cmd = [str(VENV_BIN / "ansible-playbook"), str(path), *inventory]
    if extra_vars:
        cmd += ["-e", f"@{extra_vars}"]
    start = time.perf_counter()
    with open(log, "w") as out:
        rc = subprocess.run(cmd, cwd=REPO, env=ansible_env(times, env), stdout=out,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL).returncode
    wall = time.perf_counter() - start
    records = [json.loads(l) for l in times.read_text().splitlines()] if times.exists() else []
    return rc, wall, records


def task_seconds(records: list[dict]) -> dict[str, float]:
    """Seconds from each task's start to its result (one host, tasks run one after another)."""
    out, started = {}, {}
    for r in records:
        if r["event"] == "start":
            started[r["task"]] = r["t"]
        elif r["event"] == "result" and r["task"] in started:
            out[r["task"]] = r["t"] - started[r["task"]]
    return out


def item_seconds(records: list[dict], task: str) -> list[float]:
    """Seconds per loop item of `task`: from the task's start or the previous item's result."""
    times, last = [], None
    for r in records:
        if r["task"] != task:
            continue
        if r["event"] == "start":
            last = r["t"]
        elif r["event"] == "item" and last is not None:
            times.append(r["t"] - last)
            last = r["t"]
    return times


def failures(records: list[dict]) -> list[str]:
    return [f"{r['task']}: {r.get('msg', '')}" for r in records
            if r["event"] in ("result", "item") and r.get("failed")]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def mb(kb: float) -> str:
    return f"{kb / 1024:.1f} MB"


def interleaved(commands: dict[str, list], runs: int, **kw) -> dict[str, list[Child]]:
    out: dict[str, list[Child]] = {k: [] for k in commands}
    for _ in range(runs):
        for name, cmd in commands.items():
            out[name].append(Child(cmd, **kw))
    return out


# --- the machine -----------------------------------------------------------------------------

def machine() -> None:
    heading("Machine")
    cpu = next((l.split(":", 1)[1].strip() for l in Path("/proc/cpuinfo").read_text().splitlines()
                if l.startswith("model name")), platform.processor())
    mem = next(l.split(":", 1)[1].strip() for l in Path("/proc/meminfo").read_text().splitlines()
               if l.startswith("MemTotal"))
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    py = sys.version.split()[0]
    say(f"  date     {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    say(f"  cpu      {cpu}, {os.cpu_count()} cores (nproc {len(os.sched_getaffinity(0))})")
    say(f"  memory   {mem}")
    say(f"  kernel   {platform.system()} {platform.release()}")
    say(f"  rustc    {rustc}; Python {py}")
    say(f"  load     {load()} (1, 5, 15 min; other work on the machine slows both sides alike)")


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- 1. module overhead ----------------------------------------------------------------------

def part1(n: int, micro_runs: int) -> None:
    heading(f"1. Module overhead: {n} tasks of lc_scheduler against {n} of ansible.builtin.command")
    cell = WORK / "overhead" / "cell"
    fresh(cell.parent)
    lc_sim("init", cell, "--communities", 200)
    info = cell_info(cell)
    wsadmin = {"wsadmin_path": info["wsadmin_path"], "user": info["admin_user"],
               "password": info["admin_password"]}
    command = {"argv": [info["wsadmin_path"], "-lang", "jython", "-user", info["admin_user"],
                        "-password", info["admin_password"], "-c", GETTASK],
               "chdir": info["profile_bin"]}
    tasks = []
    for i in range(n + 1):
        tag = "warm-up" if i == 0 else str(i)
        tasks.append({"name": f"module {tag}",
                      "connections.dr.lc_scheduler": {"task": TASK, "state": "status", **wsadmin}})
        tasks.append({"name": f"command {tag}", "ansible.builtin.command": command,
                      "changed_when": False})
    book = cell.parent / "overhead.yml"
    book.write_text(json.dumps([{"name": "Module overhead", "hosts": "localhost",
                                 "gather_facts": False, "tasks": tasks}], indent=1))
    before = launches(cell)
    rc, wall, records = playbook(book, cell.parent / "overhead.log", cell.parent / "times.jsonl",
                                 inventory=["-i", "localhost,", "-c", "local", "-e",
                                            f"ansible_python_interpreter={sys.executable}"])
    if rc != 0 or failures(records):
        raise RuntimeError(f"overhead playbook failed ({rc}): {failures(records)[:3]}; "
                           f"see {cell.parent / 'overhead.log'}")
    secs = task_seconds(records)
    mod = [secs[f"module {i}"] for i in range(1, n + 1)]
    cmd = [secs[f"command {i}"] for i in range(1, n + 1)]
    m_mod, m_cmd = statistics.median(mod), statistics.median(cmd)
    say(f"  {n} + {n} tasks interleaved in one playbook (after one warm-up each), "
        f"{launches(cell) - before} wsadmin launches, {wall:.0f} s in all; Jython start-up in each")
    table([["connections.dr.lc_scheduler", ms(m_mod), ms(min(mod)), ms(max(mod)), "1.00"],
           ["ansible.builtin.command", ms(m_cmd), ms(min(cmd)), ms(max(cmd)), f"{m_cmd / m_mod:.2f}"]],
          ["per task", "median", "min", "max", "x ours"])
    say(f"  difference of medians: {ms(m_cmd - m_mod)} per task in our favour"
        if m_cmd >= m_mod else f"  difference of medians: ours is {ms(m_mod - m_cmd)} per task slower")

    # The module's own work: the wsadmin it runs answers at once.
    stand = fresh(WORK / "overhead" / "stand-in")
    fake = stand / "wsadmin.sh"
    fake.write_text("#!/bin/sh\n"
                    "printf '@@lcr@@\\tobject\\tCommunitiesScheduler\\n'\n"
                    f"printf '@@lcr@@\\tdetails\\t{{status=SCHEDULED, taskName={TASK}, "
                    "nextFireTime=Thu Nov 26 04:24:26 UTC 2026}\\n'\n"
                    "printf '@@lcr@@\\tdone\\n'\n")
    fake.chmod(0o755)
    args = stand / "args.json"
    args.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
        "task": TASK, "state": "status", "wsadmin_path": str(fake), "user": "wasadmin",
        "password": "not-a-secret", "_ansible_tmpdir": str(stand) + "/"}}))
    rust = [RELEASE / "lc_scheduler", args]
    python = [sys.executable, BENCH / "py_scheduler.py", args]
    for cmd in (rust, python):
        Child(cmd)  # warm-up
    runs = interleaved({"rust": rust, "python": python}, micro_runs, cwd=stand)
    r_t = statistics.median(c.wall for c in runs["rust"])
    p_t = statistics.median(c.wall for c in runs["python"])
    r_m = max(c.maxrss_kb for c in runs["rust"])
    p_m = max(c.maxrss_kb for c in runs["python"])
    say()
    say(f"  The module's own work, wsadmin replaced by a stand-in that answers at once "
        f"({micro_runs} runs each, interleaved):")
    rows = [["lc_scheduler (Rust binary)", ms(r_t), mb(r_m), "1.00"],
            ["same module in Python (AnsibleModule)", ms(p_t), mb(p_m), f"{p_t / r_t:.1f}"]]
    instr = callgrind_pair(rust, python, stand)
    header = ["module run on its args file", "median wall", "peak RSS", "x ours"]
    if instr:
        rows[0].append(f"{instr[0] / 1e6:.1f} M")
        rows[1].append(f"{instr[1] / 1e6:.1f} M ({instr[1] / instr[0]:.0f}x)")
        header.append("instructions (callgrind)")
    table(rows, header)
    say("  (the Python module runs directly, without the AnsiballZ wrapper ansible-core adds: that "
        "favours it)")
    target("lower per-task overhead", m_mod < m_cmd and r_t < p_t,
           f"lc_scheduler task {ms(m_mod)} vs command {ms(m_cmd)}; module's own work "
           f"{ms(r_t)} vs Python {ms(p_t)}")


def callgrind_pair(rust: list, python: list, cwd: Path) -> tuple[int, int] | None:
    """Instructions each module process executes (callgrind, children not traced): a figure
    that load on the machine does not change."""
    if not shutil.which("valgrind"):
        return None
    counts = []
    for cmd in (rust, python):
        c = Child(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd],
                  cwd=cwd, check=False)
        m = re.search(r"Collected : (\d+)|refs:\s+([\d,]+)", c.err)
        if not m:
            return None
        counts.append(int((m.group(1) or m.group(2)).replace(",", "")))
    return counts[0], counts[1]


# --- 2. launches for a whole recovery ---------------------------------------------------------

def damaged_cell(path: Path, *init_args) -> dict:
    lc_sim("init", path, "--communities", CELL_COMMUNITIES, "--seed", CELL_SEED, *init_args)
    lc_sim("damage", path, "--restore", "communities", "--backup-age", BACKUP_AGE)
    truth = json.loads(lc_sim("truth", path))
    lc_sim("fault", path, "--startup-delay", STARTUP_DELAY)
    return truth


def part2(sub_apps: int, sub_orphans: int) -> dict:
    heading("2. wsadmin launches: recover.yml against a task-per-call playbook")
    base = fresh(WORK / "recover")
    site = base / "site"
    site.mkdir(mode=0o755)
    cell = site / "cell"
    truth = damaged_cell(cell, "--ihs", 2)
    orphans = truth["orphans"]
    say(f"  cell: {len(APPS)} apps, {CELL_COMMUNITIES} communities, Communities restored to a "
        f"{BACKUP_AGE}-day-old backup: {len(truth['differences'])} differences, {len(orphans)} "
        f"orphans; every wsadmin start waits {STARTUP_DELAY:.0f} s (a JVM start), then Jython starts")
    extra = base / "recover-vars.json"
    # Every orphan deleted, as the alternative does; no owners' messages (the alternative writes
    # none, and they are a template task per community: see BENCHMARKS.md).
    extra.write_text(json.dumps({"lc_orphan_action": "delete", "lc_orphan_confirm_delete": True,
                                 "lc_owner_messages": False}))
    lc_sim("ihs", "start", cell)
    try:
        before = launches(cell)
        rc, wall, records = playbook(REPO / "playbooks" / "recover.yml", base / "recover.log",
                                     base / "recover-times.jsonl",
                                     inventory=["-i", str(REPO / "playbooks" / "inventories" / "demo")],
                                     extra_vars=extra, env={"LC_DEMO_CELL": str(cell)})
    finally:
        lc_sim("ihs", "stop", cell)
    ours = launches(cell) - before
    if rc != 0:
        raise RuntimeError(f"recover.yml failed ({rc}); see {base / 'recover.log'}")
    secs = task_seconds(records)
    orphan_task = secs.get("Report, keep or delete each orphan", 0.0)
    status = json.loads(lc_sim("status", cell))
    left = json.loads(lc_sim("truth", cell))["orphans"]
    orphan_calls = sum(v for k, v in status["calls"].items()
                       if k.split(".")[-1] in ("deleteActivities", "fetchActivitiesByCommunityExId",
                                               "deleteWeblog", "delete", "fetchForums",
                                               "filterInput", "deleteForums", "deleteMicroblogs"))

    # The alternative, on an identical cell, for a subset of the apps and orphans.
    alt = base / "alt"
    alt.mkdir(mode=0o755)
    alt_cell = alt / "cell"
    damaged_cell(alt_cell)
    info = cell_info(alt_cell)
    exports, reports = fresh(alt / "exports"), fresh(alt / "reports")
    full = 1 + 3 * len(APPS) + 1 + len(orphans)
    apps, sample = APPS[:sub_apps], orphans[:sub_orphans]
    vars_file = alt / "vars.json"
    vars_file.write_text(json.dumps({
        "bench_wsadmin": info["wsadmin_path"], "bench_bin_dir": info["profile_bin"],
        "bench_user": info["admin_user"], "bench_password": info["admin_password"],
        "bench_apps": apps, "bench_export_dir": str(exports), "bench_report_dir": str(reports),
        "bench_orphans": sample, "ansible_python_interpreter": sys.executable}))
    before = launches(alt_cell)
    rc2, alt_wall, alt_records = playbook(BENCH / "task_per_call.yml", alt / "task_per_call.log",
                                          alt / "times.jsonl", inventory=["-i", "localhost,", "-c", "local"],
                                          extra_vars=vars_file)
    measured = launches(alt_cell) - before
    if rc2 != 0 or failures(alt_records):
        raise RuntimeError(f"task_per_call.yml failed ({rc2}): {failures(alt_records)[:3]}; "
                           f"see {alt / 'task_per_call.log'}")
    per_app = sum(statistics.median(item_seconds(alt_records, t)) for t in (
        "Clear the queued events of each application", "Export each application's synced resources",
        "Generate the reports of each export"))
    per_orphan = statistics.median(item_seconds(alt_records, "Delete each orphan with its application's command"))
    extrapolated = alt_wall + (len(APPS) - len(apps)) * per_app + (len(orphans) - len(sample)) * per_orphan

    say()
    table([["recover.yml (connections.dr modules)", str(ours), f"{wall:.0f} s", "measured"],
           ["task-per-call playbook, as run", str(measured), f"{alt_wall:.0f} s",
            f"measured: pause, {len(apps)} apps x (clear, export, report), resume, {len(sample)} orphans"],
           ["task-per-call playbook, whole job", str(full), f"{extrapolated:.0f} s",
            f"EXTRAPOLATED: + {len(APPS) - len(apps)} apps x {per_app:.1f} s + "
            f"{len(orphans) - len(sample)} orphans x {per_orphan:.1f} s (medians of the run above)"]],
          ["playbook", "wsadmin launches", "wall", "how"])
    say(f"  launches: ours {ours} for any number of apps and orphans; the task-per-call playbook "
        f"needs 3 x apps + 2 + orphans = {full} ({full / ours:.0f}x as many)")
    say("  recover.yml does more than the alternative: preflight, maintenance mode on 2 IHS (real "
        "httpd, restarted), exports moved between hosts, the consolidated report")
    if orphan_task:
        say(f"  its orphans task: {orphan_task:.1f} s for {len(orphans)} deletions in one wsadmin run "
            f"({orphan_calls} admin calls, {orphan_task / max(len(orphans), 1) * 1000:.0f} ms per "
            f"orphan, mostly the simulated server's own work per call); orphans left: {len(left)}")
    target("fewer wsadmin launches (constant in apps and orphans)", ours < full,
           f"{ours} launches vs {full}; wall {wall:.0f} s vs {extrapolated:.0f} s (extrapolated)")
    return {"orphan_seconds": orphan_task, "orphans": len(orphans), "calls": orphan_calls}


# --- 3. readers ------------------------------------------------------------------------------

SIZES = [("10k", 10_000), ("100k", 100_000), ("1M", 1_000_000)]


def data_files(sizes) -> list[tuple[str, Path, Path]]:
    DATA.mkdir(parents=True, exist_ok=True)
    out = []
    for label, n in sizes:
        export = DATA / f"export-{label}.xml"
        report_dir = DATA / f"report-{label}"
        report = report_dir / "Files_communityDifferences.html"
        if not export.exists():
            lc_sim("gen-export", export.with_suffix(".tmp"), "--app", "Files", "--resources", n)
            export.with_suffix(".tmp").rename(export)
        if not report.exists():
            lc_sim("gen-report", report_dir, "--app", "Files", "--rows", n)
        out.append((label, export, report))
    return out


def part3(sizes, reps: dict[str, dict[str, int]]) -> None:
    heading("3. Export and report reading: lc_core's streaming readers against Python's")
    files = data_files(sizes)
    readers = {
        "export": [("summarize (count+SHA-256)", [LC_BENCH, "export-summary"],
                    "iterparse count+SHA-256", [sys.executable, BENCH / "readers.py", "export-count"]),
                   ("for_each_resource (every record)", [LC_BENCH, "export-resources"],
                    "iterparse every record", [sys.executable, BENCH / "readers.py", "export-records"])],
        "report": [("for_each_difference", [LC_BENCH, "report-differences"],
                    "html.parser rows", [sys.executable, BENCH / "readers.py", "report-rows"])],
    }
    # Maintained Rust tokenizers doing the same work, measured against ours (BENCHMARKS.md: one
    # would replace ours if it kept within 20% of its speed with flat memory).
    others = {"for_each_difference": [("html5ever tokenizer rows", [LC_BENCH_HTML5EVER])]}
    versus: dict[str, dict[str, float]] = {}
    peaks: dict[str, dict[str, float]] = {}
    ratios: dict[str, dict[str, float]] = {}
    for kind in ("export", "report"):
        say()
        say(f"  {kind}s (Files, lc-sim gen-{kind}); MB/s = file size / reading time inside the "
            "process (start-up excluded), best of the runs; peak RSS of the process")
        rows = []
        for label, export, report in files:
            path = export if kind == "export" else report
            size = path.stat().st_size
            n = reps[kind][label]
            Child(["cat", path])  # in the page cache for everyone
            cat = min(Child(["sh", "-c", 'cat "$1" > /dev/null', "sh", path]).wall for _ in range(3))
            cat_rate = size / cat / 1e6
            rows.append([f"{label} ({size / 1e6:.0f} MB)", "cat FILE > /dev/null", f"{cat_rate:,.0f}", "",
                         "", "ceiling"])
            for ours_name, ours_cmd, py_name, py_cmd in readers[kind]:
                alts = others.get(ours_name, [])
                runs = interleaved({"ours": [*ours_cmd, path], "py": [*py_cmd, path],
                                    **{name: [*cmd, path] for name, cmd in alts}}, n)
                got = {k: [c.json() for c in v] for k, v in runs.items()}
                for k in got:
                    if got["ours"][0]["items"] != got[k][0]["items"] or \
                            got["ours"][0]["check"] != got[k][0]["check"]:
                        raise RuntimeError(f"{ours_name} and {k} disagree on {path}: "
                                           f"{got['ours'][0]} vs {got[k][0]}")
                o_rate = size / min(g["seconds"] for g in got["ours"]) / 1e6
                p_rate = size / min(g["seconds"] for g in got["py"]) / 1e6
                o_mem = max(c.maxrss_kb for c in runs["ours"])
                p_mem = max(c.maxrss_kb for c in runs["py"])
                rows.append(["", f"ours: {ours_name}", f"{o_rate:,.0f}", mb(o_mem),
                             f"{o_rate / p_rate:.1f}x", f"{o_rate / cat_rate:.3f}"])
                rows.append(["", f"Python: {py_name}", f"{p_rate:,.1f}", mb(p_mem), "1.0x",
                             f"{p_rate / cat_rate:.4f}"])
                for name, _ in alts:
                    a_rate = size / min(g["seconds"] for g in got[name]) / 1e6
                    a_mem = max(c.maxrss_kb for c in runs[name])
                    rows.append(["", f"Rust: {name}", f"{a_rate:,.0f}", mb(a_mem),
                                 f"{a_rate / p_rate:.1f}x", f"{a_rate / cat_rate:.3f}"])
                    versus.setdefault(name, {})[label] = a_rate / o_rate
                peaks.setdefault(ours_name, {})[label] = o_mem
                ratios.setdefault(ours_name, {})[label] = o_rate / p_rate
        table(rows, ["file", "reader", "MB/s", "peak RSS", "x Python", "x cat"])
    for name, by_size in versus.items():
        say(f"  {name}: " + ", ".join(f"{k}: {v:.2f}" for k, v in by_size.items())
            + " of our reader's rate (it would replace ours at 0.80 or more with flat memory; "
              "see BENCHMARKS.md)")
    say()
    for name, by_size in ratios.items():
        worst = min(by_size, key=by_size.get)
        target(f"{name} >= 10x Python", by_size[worst] >= 10,
               ", ".join(f"{k}: {v:.1f}x" for k, v in by_size.items()))
    for name, by_size in peaks.items():
        labels = list(by_size)
        small, large = by_size[labels[0]], by_size[labels[-1]]
        target(f"{name} memory flat, < 64 MB at {labels[-1]}",
               large < 64 * 1024 and large - small < 8 * 1024,
               f"{mb(small)} at {labels[0]}, {mb(large)} at {labels[-1]}")


# --- 4. lc_orphan at 10k and the consolidated report -------------------------------------------

def part4(n_orphans: int, n_diffs: int, p2: dict | None) -> None:
    heading(f"4. lc_orphan with {n_orphans:,} orphans; the consolidated report of {n_diffs:,} differences")
    base = fresh(WORK / "orphans")
    # A cell whose only remote application is Blog: orphans of Wiki are handled row by row in the
    # generated script, which finds wikisAdmin.py missing and makes no admin call for them. What
    # is measured is the module and its one wsadmin run, not the server's work per orphan.
    cell = base / "cell"
    lc_sim("init", cell, "--communities", 50, "--apps", "Blog", "--multi-server", "none")
    info = cell_info(cell)
    orphans = [{"application": "Wiki", "object_id": f"{i:08x}-0000-4000-8000-{i:012x}",
                "old_community_uuid": f"{i:08x}-1111-4000-8000-{i:012x}", "community_exists": False}
               for i in range(n_orphans)]

    def args_file(name: str, wsadmin_path: str, user: str, password: str) -> Path:
        p = base / name
        p.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {
            "orphans": orphans, "action": "delete", "confirm_delete": True,
            "wsadmin_path": wsadmin_path, "user": user, "password": password,
            "_ansible_tmpdir": str(base) + "/"}}))
        return p

    before = launches(cell)
    run = Child([RELEASE / "lc_orphan", args_file("cell-args.json", info["wsadmin_path"],
                                                  info["admin_user"], info["admin_password"])],
                cwd=base, check=False)
    result = json.loads(run.out)
    counts = result.get("counts", {})
    one = launches(cell) - before
    if counts.get("total") != n_orphans or counts.get("planned", 0):
        raise RuntimeError(f"lc_orphan did not handle every orphan: {result.get('msg')}")

    # The module alone: a stand-in wsadmin answers `done` for every row of the data file at once
    # (sh and awk, a few MB), so the peak is the module's own.
    fake = base / "wsadmin.sh"
    fake.write_text("#!/bin/sh\n"
                    'while [ $# -gt 0 ]; do [ "$1" = -f ] && script=$2; shift; done\n'
                    "data=$(sed -n 's/^DATA = lcr_read_data(u\"\\(.*\\)\")$/\\1/p' \"$script\")\n"
                    "awk -F'\\t' '{print \"@@lcr@@\\toutcome\\t\" $1 \"\\tdone\\tdeleted\"}' \"$data\"\n"
                    "printf '@@lcr@@\\tdone\\n'\n")
    fake.chmod(0o755)
    alone = Child([RELEASE / "lc_orphan", args_file("alone-args.json", str(fake), "wasadmin", "x")],
                  cwd=base)
    done = json.loads(alone.out).get("counts", {}).get("done")
    if done != n_orphans:
        raise RuntimeError(f"stand-in run: {json.loads(alone.out).get('msg')}")

    rec_dir = fresh(base / "recovery")
    rec = Child([LC_BENCH, "recovery", n_diffs, rec_dir])
    r = rec.json()
    rows = [[f"lc_orphan, {n_orphans:,} orphans, against the cell", f"{run.wall:.1f} s",
             f"{mb(run.maxrss_kb)} (Jython's)", f"{one} wsadmin launch{'es' if one != 1 else ''}"],
            [f"lc_orphan, {n_orphans:,} orphans, the module alone", f"{alone.wall:.2f} s",
             mb(alone.maxrss_kb), "stand-in wsadmin (sh + awk)"],
            [f"consolidated report, {n_diffs:,} differences", f"{r['seconds']:.2f} s", mb(rec.maxrss_kb),
             f"{r['communities_to_contact']:,} communities, {r['orphans']:,} orphans; "
             f"consolidate {r['consolidate_seconds']:.2f} s, write 3 files ({r['bytes'] / 1e6:.0f} MB) "
             f"{r['write_seconds']:.2f} s"]]
    table(rows, ["", "wall", "peak RSS", "notes"])
    if p2 and p2["orphans"]:
        per = p2["orphan_seconds"] / p2["orphans"]
        say(f"  with the server's work: part 2's orphans task took {per * 1000:.0f} ms per orphan on "
            f"the simulated cell ({p2['calls'] / p2['orphans']:.1f} admin calls each); {n_orphans:,} real "
            f"deletions would take about {run.wall + n_orphans * per:.0f} s (EXTRAPOLATED), still in "
            "one wsadmin launch")
    target(f"lc_orphan: one wsadmin launch for {n_orphans:,} orphans", one == 1,
           f"{one} launch, {run.wall:.1f} s; module alone {alone.wall:.2f} s, {mb(alone.maxrss_kb)}")


def owner_contacts(n: int) -> list[dict]:
    """n communities to contact, three per owner on average (owners drawn at random, seed 5)."""
    import random
    rng = random.Random(5)
    owners = [f"Owner {i:05d}" for i in range(max(1, n // 3))]
    return [{"uuid": f"{i:08x}-0000-4000-8000-{i:012x}", "name": f"Community {i}",
             "created_by": rng.choice(owners), "applications": ["Blog", "Files", "Wiki"],
             "fields": ["theme", "visibility"]} for i in range(n)]


def part5(sizes: list[int], per_task_items: int) -> None:
    heading("5. Owners' messages: one lc_owner_messages task against one template task per community")
    base = fresh(WORK / "messages")
    template = REPO / "playbooks" / "templates" / "owner-message.txt.j2"
    legacy = base / "per-community.txt.j2"
    # The per-community template of earlier releases, rendered by ansible.builtin.template.
    legacy.write_text('To: {{ item.created_by }} (owner of the community "{{ item.name }}")\n'
                      "Subject: Please re-save the access setting of \"{{ item.name }}\"\n\n"
                      "{{ item.fields | join(', ') }} ({{ item.applications | join(', ') }})\n"
                      "Community id: {{ item.uuid }}\n")
    rows = []

    def run(name: str, contacts: list[dict], task: dict) -> float:
        work = fresh(base / name)
        (work / "messages").mkdir()
        (work / "vars.json").write_text(json.dumps({"contacts": contacts,
                                                    "ansible_python_interpreter": sys.executable}))
        (work / "play.yml").write_text(json.dumps([{"name": name, "hosts": "localhost", "gather_facts": False,
                                                    "tasks": [dict(task, name="Write the messages")]}]))
        rc, wall, records = playbook(work / "play.yml", work / "log", work / "times.jsonl",
                                     inventory=["-i", "localhost,", "-c", "local"], extra_vars=work / "vars.json")
        if rc != 0 or failures(records):
            raise RuntimeError(f"{name} failed ({rc}); see {work / 'log'}")
        return task_seconds(records)["Write the messages"]

    ours = {}
    for n in sizes:
        contacts = owner_contacts(n)
        dest = base / f"ours-{n}" / "messages"
        secs = run(f"ours-{n}", contacts, {"connections.dr.lc_owner_messages": {
            "communities": "{{ contacts }}", "template": str(template), "dest": str(dest)}})
        files = len(list(dest.glob("*.txt")))
        ours[n] = secs
        rows.append([f"lc_owner_messages, {n:,} communities", f"{secs:.1f} s", f"{files:,} owners' messages",
                     f"{secs / n * 1000:.1f} ms per community"])
    contacts = owner_contacts(per_task_items)
    dest = base / "template" / "messages"
    secs = run("template", contacts, {
        "ansible.builtin.template": {"src": str(legacy), "dest": str(dest) + "/{{ item.uuid }}.txt", "mode": "0640"},
        "loop": "{{ contacts }}", "loop_control": {"label": "{{ item.name }}"}})
    per = secs / per_task_items
    rows.append([f"template task per community, {per_task_items} communities", f"{secs:.1f} s",
                 f"{per_task_items} messages", f"{per * 1000:.0f} ms per community"])
    for n in sizes:
        rows.append([f"template task per community, {n:,} communities", f"{per * n:.0f} s",
                     "EXTRAPOLATED", f"{per * n / max(ours[n], 0.001):.0f} x lc_owner_messages"])
    table(rows, ["", "task time", "files", "notes"])
    biggest = max(sizes)
    target(f"owners' messages: {biggest:,} communities to contact in one task, in seconds",
           ours[biggest] < 60, f"{ours[biggest]:.1f} s")


# --- main --------------------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="1,2,3,4,5", help="parts to run, e.g. 1,3")
    ap.add_argument("--messages", default="", help="sizes of part 5, e.g. 1000,10000 (default 100,1000,10000)")
    ap.add_argument("--quick", action="store_true", help="small sizes, for a check of the harness")
    ap.add_argument("--tasks", type=int, default=0, help="tasks of each kind in part 1 (default 12)")
    a = ap.parse_args()
    parts = {int(p) for p in a.only.split(",") if p.strip()}
    for exe in (LC_SIM, LC_BENCH, RELEASE / "lc_scheduler", RELEASE / "lc_orphan", Path(TIME)):
        if not exe.exists():
            say(f"{exe} is missing: run `make build` first")
            return 2
    start = time.perf_counter()
    WORK.mkdir(parents=True, exist_ok=True)
    machine()
    p2 = None
    timed = []

    def part(n: int, run) -> None:
        if n in parts:
            t = time.perf_counter()
            run()
            timed.append(f"{n}: {time.perf_counter() - t:.0f} s")
            say(f"  (part {n} took {time.perf_counter() - t:.0f} s; load {load()})")

    def two() -> None:
        nonlocal p2
        p2 = part2(sub_apps=1 if a.quick else 2, sub_orphans=2 if a.quick else 4)

    part(1, lambda: part1(n=a.tasks or (4 if a.quick else 12), micro_runs=5 if a.quick else 20))
    part(2, two)
    part(3, lambda: part3(SIZES[:2] if a.quick else SIZES, {"export": {"10k": 7, "100k": 5, "1M": 3},
                                                   "report": {"10k": 5, "100k": 3, "1M": 1}}))
    part(4, lambda: part4(n_orphans=1000 if a.quick else 10_000,
                          n_diffs=10_000 if a.quick else 100_000, p2=p2))
    part(5, lambda: part5([int(x) for x in a.messages.split(",")] if a.messages
                          else [100, 1000] if a.quick else [100, 1000, 10_000], per_task_items=20 if a.quick else 50))
    heading("Targets")
    for name, ok, detail in RESULTS:
        say(f"  {'PASS ' if ok else 'SHORT'}  {name}: {detail}")
    say()
    say(f"  load at the end: {load()}; parts {', '.join(timed)}; "
        f"{time.perf_counter() - start:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
