#!/usr/bin/python3
"""Boots Linux 6.1 686-pae and ia32mm variants per RAM size and tabulates free lowmem.

Called by tools/compare-linux.sh (which fetches the Linux kernel, busybox and
builds the initramfs); standard library only.  Every boot uses one QEMU command
line that differs between systems only in -kernel/-initrd/-append and the log
name.  A boot ends when its numbers are in the serial log (then QEMU gets a few
seconds to power off by itself), on a panic, or at the timeout; every outcome
is a result: ok, panic, timeout, error, build failed.
"""
import argparse
import datetime
import os
import re
import shlex
import subprocess
import sys
import time

LINUX = "linux-6.1-686-pae"
LINUX_BASE_APPEND = "console=ttyS0 earlyprintk=serial,ttyS0 panic=-1"
IA32MM_APPEND = "tests=framework.*"

# How long a guest may go on after it gave what we need before it is killed.
GRACE_AFTER_DATA = 10.0
GRACE_AFTER_PANIC = 3.0
GRACE_AFTER_END = 3.0
POLL = 0.1

LOWMEM_RE = re.compile(r"# lowmem: ram_kib=(\d+) lowmem_kib=(\d+) mem_map_kib=(\d+) free_lowmem_kib=(\d+)")
MEMINFO_RE = re.compile(r"compare-meminfo: (\w+):\s+(\d+) kB")
LINUX_PANIC_RE = re.compile(r"Kernel panic - not syncing: ([^\r\n]*)")
IA32MM_PANIC_RE = re.compile(r"^PANIC: ([^\r\n]*)", re.M)
IA32MM_STATUS_RE = re.compile(r"# ia32mm: status=(\w+)")


class Boot:
    """One boot: what was run and what came out."""

    def __init__(self, size, system, label):
        self.size = size
        self.system = system
        self.label = label
        self.cmd = []
        self.log = ""
        self.qemu_log = ""
        self.result = ""          # ok, panic, timeout, error, build failed
        self.low_total_kib = None
        self.low_free_kib = None
        self.mem_map_kib = None
        self.note = ""
        self.seconds = 0.0


def mib(kib, digits=1):
    return "" if kib is None else f"{kib / 1024:.{digits}f}"


def qemu_command(size, accel, log, kernel, append, initrd=None):
    g = f"{size}G"
    cmd = ["qemu-system-x86_64", "-accel", accel, "-cpu", "core2duo", "-m", g,
           "-object", f"memory-backend-ram,id=ram0,size={g},reserve=off",
           "-machine", "pc,memory-backend=ram0",
           "-display", "none", "-no-reboot", "-serial", f"file:{log}",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=4",
           "-kernel", kernel]
    if initrd:
        cmd += ["-initrd", initrd]
    return cmd + ["-append", append]


def read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def last_line(text):
    lines = [l.strip() for l in text.replace("\r", "\n").split("\n") if l.strip()]
    return lines[-1][:200] if lines else "(no output)"


def linux_state(text):
    """(state, panic message): state is 'data', 'panic' or None (keep going)."""
    if "compare-meminfo-end" in text:
        return "data", None
    m = LINUX_PANIC_RE.search(text)
    if m:
        return "panic", m.group(1).replace(" ]---", "").strip()
    return None, None


def ia32mm_state(text):
    """The `# lowmem:` line is the data, even if a test panics later."""
    if LOWMEM_RE.search(text):
        return "data", None
    p = IA32MM_PANIC_RE.search(text)
    m = IA32MM_STATUS_RE.search(text)
    if p or (m and m.group(1) == "panic"):
        return "panic", p.group(1).strip() if p else "status=panic"
    return None, None


def finished(text, is_linux):
    """True once the guest has nothing more we want (it may still be running)."""
    if is_linux:
        return "compare-meminfo-end" in text or "end Kernel panic" in text
    return IA32MM_STATUS_RE.search(text) is not None


def run_boot(b, timeout, is_linux):
    """Runs b.cmd; fills b.result, the numbers and b.note."""
    for path in (b.log, b.qemu_log):
        if os.path.exists(path):
            os.unlink(path)
    state_fn = linux_state if is_linux else ia32mm_state
    start = time.monotonic()
    with open(b.qemu_log, "wb") as qlog:
        proc = subprocess.Popen(b.cmd, stdin=subprocess.DEVNULL, stdout=qlog, stderr=subprocess.STDOUT)
    seen_at, finished_at, timed_out, killed = None, None, False, False
    try:
        while True:
            rc = proc.poll()
            text = read_text(b.log)
            state, msg = state_fn(text)
            now = time.monotonic()
            if state and seen_at is None:
                seen_at = now
            if finished_at is None and finished(text, is_linux):
                finished_at = now
            if rc is not None:
                break
            # Killing is the last resort: Linux powers off and ia32mm exits
            # through isa-debug-exit by themselves, a panicking Linux reboots
            # (panic=-1, -no-reboot) once its command line has been parsed.
            if finished_at is not None and now - finished_at > GRACE_AFTER_END:
                killed = True
                break
            if state and now - seen_at > (GRACE_AFTER_PANIC if state == "panic" else GRACE_AFTER_DATA):
                killed = True
                break
            if now - start > timeout:
                timed_out = True
                break
            time.sleep(POLL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    b.seconds = time.monotonic() - start
    text = read_text(b.log)
    state, msg = state_fn(text)
    qtext = read_text(b.qemu_log)

    if is_linux:
        info = {k: int(v) for k, v in MEMINFO_RE.findall(text)}
        if state == "data" and "LowFree" in info and "LowTotal" in info:
            b.result = "ok"
            b.low_total_kib, b.low_free_kib = info["LowTotal"], info["LowFree"]
            extra = ", ".join(f"{k} {info[k] / 1024:.0f} MiB" for k in ("MemTotal", "HighTotal") if k in info)
            b.note = extra + ("; killed after meminfo (no poweroff)" if killed and "compare-poweroff-failed" in text else "")
        elif state == "data":
            b.result = "error"
            b.note = "meminfo has no LowTotal/LowFree (kernel without highmem?)"
    else:
        m = LOWMEM_RE.search(text)
        if state == "data" and m:
            ram, low, mm, free = (int(x) for x in m.groups())
            b.result = "ok"
            b.low_total_kib, b.low_free_kib, b.mem_map_kib = low, free, mm
            st = IA32MM_STATUS_RE.search(text)
            b.note = f"ram_kib={ram}; status=" + (st.group(1) if st else "none (killed after the lowmem line)")
            p = IA32MM_PANIC_RE.search(text)
            if p:
                b.note += f"; PANIC: {p.group(1).strip()}"
    if state == "panic":
        b.result = "panic"
        b.note = f"panic: {msg}"
    elif not b.result:
        if timed_out:
            b.result = "timeout"
            b.note = f"timeout after {timeout} s; last serial line: {last_line(text)}"
        else:
            b.result = "error"
            where = last_line(qtext) if qtext.strip() else last_line(text)
            b.note = f"QEMU exited with status {proc.returncode} before the numbers: {where}"


def system_label(variant, variants):
    m = re.search(r"pgcl(\d+)$", variant)
    same_n = [v for v in variants if m and v.endswith("pgcl" + m.group(1))]
    return f"ia32mm pgcl{m.group(1)}" if m and len(same_n) == 1 else f"ia32mm {variant}"


def build_variant(v, out, build):
    """Returns (kernel path or None, note)."""
    elf = f"build/{v}/kernel.elf"
    if not build:
        return (elf, "BUILD=0: kernel.elf as found") if os.path.exists(elf) else (None, f"BUILD=0 and no {elf}")
    log = f"{out}/logs/make-{v}.log"
    with open(log, "wb") as f:
        rc = subprocess.call(["make", "--no-print-directory", f"VARIANT={v}", "kernel"],
                             stdin=subprocess.DEVNULL, stdout=f, stderr=subprocess.STDOUT)
    if rc == 0:
        return elf, ""
    if os.path.exists(elf):
        return elf, f"make failed ({log}); booted the kernel.elf built before"
    return None, f"make failed ({log}): {last_line(read_text(log))}"


def cell(b, digits=0, field="low_free_kib"):
    if b is None:
        return ""
    if b.result != "ok":
        return b.result
    v = getattr(b, field)
    return "" if v is None else f"{v / 1024:.{digits}f}"


def tsv_clean(s):
    return re.sub(r"[\t\r\n]+", " ", s)


def write_tsv(path, boots):
    with open(path, "w") as f:
        f.write("size_gib\tsystem\tlow_total_mib\tlow_free_mib\tmem_map_mib\tnote\n")
        for b in boots:
            f.write(f"{b.size}\t{b.system}\t{mib(b.low_total_kib)}\t{mib(b.low_free_kib)}\t"
                    f"{mib(b.mem_map_kib)}\t{tsv_clean(b.note)}\n")


def write_boots_tsv(path, boots):
    with open(path, "w") as f:
        f.write("size_gib\tsystem\tresult\tseconds\tserial_log\tcommand\n")
        for b in boots:
            f.write(f"{b.size}\t{b.system}\t{b.result}\t{b.seconds:.1f}\t{b.log}\t{shlex.join(b.cmd)}\n")


def markdown(boots, sizes, systems, labels, meta):
    by = {(b.size, b.system): b for b in boots}
    lines = ["Free lowmem after boot, MiB:", ""]
    lines.append("| RAM | " + " | ".join(labels[s] for s in systems) + " |")
    lines.append("|---:|" + "---:|" * len(systems))
    for s in sizes:
        lines.append(f"| {s} GiB | " + " | ".join(cell(by.get((s, sy))) for sy in systems) + " |")
    lines += ["", "Lowmem total and page-descriptor array (mem_map), MiB:", ""]
    head, cols = ["RAM"], []
    for sy in systems:
        if sy == LINUX:
            head.append("Linux LowTotal")
            cols.append((sy, "low_total_kib"))
        else:
            head += [f"{labels[sy]} lowmem", f"{labels[sy]} mem_map"]
            cols += [(sy, "low_total_kib"), (sy, "mem_map_kib")]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|---:|" + "---:|" * len(cols))
    for s in sizes:
        lines.append(f"| {s} GiB | " + " | ".join(cell(by.get((s, sy)), 0, f) for sy, f in cols) + " |")
    lines.append("")
    lines += meta
    odd = [b for b in boots if b.result not in ("ok",)]
    if odd:
        lines.append("")
        for b in odd:
            why = b.note if b.note.startswith(b.result) else f"{b.result}: {b.note}"
            lines.append(f"- {labels[b.system]} at {b.size} GiB: {why}")
    return "\n".join(lines) + "\n"


def plot(out, boots, sizes, systems, labels):
    """Writes lowmem.gp and runs gnuplot on it; returns an error string or None."""
    gp = [f'set terminal pngcairo size 960,600 enhanced font "sans,12"',
          f'set output "{out}/lowmem.png"',
          'set title "Free lowmem after boot: 32-bit PAE kernels under QEMU"',
          'set xlabel "RAM (GiB)"', 'set ylabel "free lowmem (MiB)"',
          "set grid", "set key outside bottom center horizontal",
          f"set xrange [0:{max(sizes) + 2}]",
          "set xtics (" + ", ".join(f'"{s}" {s}' for s in sizes) + ")"]
    ymax = max([b.low_free_kib / 1024 for b in boots if b.result == "ok"] + [100])
    ytop = (int(ymax * 1.15) // 100 + 1) * 100
    gp.append(f"set yrange [0:{ytop}]")
    ok_all = [b for b in boots if b.result == "ok"]

    def crowded(b):
        """A value label would sit on another system's point at the same size."""
        return any(o is not b and o.size == b.size and
                   abs(o.low_free_kib - b.low_free_kib) / 1024 < 0.07 * ytop for o in ok_all)

    clauses = []
    for i, sy in enumerate(systems):
        ok = [b for b in ok_all if b.system == sy]
        bad = [b for b in boots if b.system == sy and b.result != "ok"]
        name = re.sub(r"\W", "_", sy)
        if ok:
            gp.append(f"$ok_{name} << EOD")
            gp += [f"{b.size} {b.low_free_kib / 1024:.1f}" for b in ok]
            gp.append("EOD")
            clauses.append(f'$ok_{name} using 1:2 with linespoints lw 2 pt 7 ps 1.3 lc {i + 1} '
                           f'title "{labels[sy]}"')
            shown = [b for b in ok if not crowded(b)]
            if shown:
                gp.append(f"$val_{name} << EOD")
                gp += [f'{b.size} {b.low_free_kib / 1024:.1f} "{b.low_free_kib / 1024:.0f}"' for b in shown]
                gp.append("EOD")
                clauses.append(f'$val_{name} using 1:2:3 with labels offset 0,1.1 tc lt {i + 1} notitle')
        if bad:
            gp.append(f"$bad_{name} << EOD")
            gp += [f'{b.size} 0 "{b.result}"' for b in bad]
            gp.append("EOD")
            clauses.append(f'$bad_{name} using 1:2 with points pt 2 ps 2.5 lw 2 lc {i + 1} notitle')
            clauses.append(f'$bad_{name} using 1:2:3 with labels offset 0,{1.2 + 1.1 * i} '
                           f'tc lt {i + 1} notitle')
    if not clauses:
        return "nothing to plot"
    gp.append("plot " + ", \\\n     ".join(clauses))
    with open(f"{out}/lowmem.gp", "w") as f:
        f.write("\n".join(gp) + "\n")
    try:
        r = subprocess.run(["gnuplot", f"{out}/lowmem.gp"], capture_output=True, text=True)
    except OSError as e:
        return str(e)
    return None if r.returncode == 0 else (r.stderr.strip() or f"gnuplot exited {r.returncode}")


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--sizes", required=True, help="GiB, space-separated")
    ap.add_argument("--variants", default="")
    ap.add_argument("--linux-kernel")
    ap.add_argument("--linux-initrd")
    ap.add_argument("--linux-desc", default="")
    ap.add_argument("--kaslr", choices=("on", "off"), default="off")
    ap.add_argument("--accel", choices=("tcg", "kvm"), default="tcg")
    ap.add_argument("--timeout", type=int, help="seconds per boot (default 30 + 2 per GiB)")
    ap.add_argument("--build", type=int, choices=(0, 1), default=1)
    a = ap.parse_args()

    try:
        sizes = sorted({int(s) for s in a.sizes.split()})
    except ValueError:
        sys.exit(f"compare: bad --sizes '{a.sizes}'")
    if not sizes or any(s < 1 or s > 64 for s in sizes):
        sys.exit(f"compare: sizes must be 1..64 GiB, got '{a.sizes}'")
    variants = a.variants.split()
    out = a.out
    os.makedirs(f"{out}/logs", exist_ok=True)

    systems, labels, kernels = [], {}, {}
    linux_append = LINUX_BASE_APPEND + (" nokaslr" if a.kaslr == "off" else "")
    if a.linux_kernel:
        systems.append(LINUX)
        labels[LINUX] = "Linux 6.1 686-pae"
    for v in variants:
        systems.append(v)
        labels[v] = system_label(v, variants)
        print(f"compare: make VARIANT={v} kernel" if a.build else f"compare: using build/{v}/kernel.elf", flush=True)
        kernels[v] = build_variant(v, out, a.build)
        if kernels[v][1]:
            print(f"compare: {v}: {kernels[v][1]}", flush=True)

    boots = []
    total = len(sizes) * len(systems)
    t0 = time.monotonic()
    for s in sizes:
        timeout = a.timeout or 30 + 2 * s
        for sy in systems:
            b = Boot(s, sy, labels[sy])
            b.log = f"{out}/logs/{s}G-{sy}.serial"
            b.qemu_log = f"{out}/logs/{s}G-{sy}.qemu"
            if sy == LINUX:
                b.cmd = qemu_command(s, a.accel, b.log, a.linux_kernel, linux_append, a.linux_initrd)
                run_boot(b, timeout, True)
                if b.result == "ok":
                    b.note += "; nokaslr" if a.kaslr == "off" else "; KASLR on (random load address)"
            else:
                elf, bnote = kernels[sy]
                if elf is None:
                    b.result, b.note = "build failed", bnote
                else:
                    b.cmd = qemu_command(s, a.accel, b.log, elf, IA32MM_APPEND)
                    run_boot(b, timeout, False)
                    if bnote:
                        b.note = f"{b.note}; {bnote}" if b.note else bnote
            boots.append(b)
            if b.result == "ok":
                what = f"free {mib(b.low_free_kib, 0)} MiB of {mib(b.low_total_kib, 0)}"
                if b.mem_map_kib is not None:
                    what += f", mem_map {mib(b.mem_map_kib, 0)} MiB"
            else:
                what = b.note if b.note.startswith(b.result) else f"{b.result}: {b.note}"
            print(f"compare: [{len(boots)}/{total}] {s:2d} GiB {labels[sy]}: {what} "
                  f"({b.seconds:.1f} s)", flush=True)
    boot_time = time.monotonic() - t0

    qemu_version = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True,
                                  text=True).stdout.split("\n")[0]
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], capture_output=True,
                            text=True).stdout.strip() or "unknown"
    meta = [f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d} by `tools/compare-linux.sh` "
            f"under {qemu_version.replace('QEMU emulator version', 'QEMU')}, "
            f"{a.accel.upper()}, `-cpu core2duo`, `-m <RAM>` with a `memory-backend-ram`."]
    if LINUX in systems:
        meta.append(f"Linux: Debian's {a.linux_desc} (i386, PAE, HIGHMEM64G, HIGHPTE, 3G/1G split), "
                    f"busybox initramfs, `{linux_append}`; numbers are `/proc/meminfo` LowFree and LowTotal. "
                    "LowTotal counts only pages the page allocator got: the kernel image, mem_map and other "
                    "boot-time reservations are already subtracted.")
        meta.append("KASLR: Debian's kernel loads itself at a random 16 MiB-aligned physical address "
                    "(up to 512 MiB) unless booted with `nokaslr`. The image then splits lowmem, and "
                    "mem_map (40 bytes per 4 KiB frame, one block in lowmem) fits only if the larger piece "
                    "is big enough: at 48 and 64 GiB the boot panics by chance "
                    "(\"Failed to allocate N bytes for node 0 memory map\"). "
                    + ("These boots used `nokaslr`, so the numbers are reproducible; "
                       "`LINUX_KASLR=on` boots as shipped." if a.kaslr == "off" else
                       "These boots used KASLR (`LINUX_KASLR=on`): a panic cell is one draw, "
                       "not a limit; `nokaslr` (the default) boots every size."))
    if variants:
        meta.append(f"ia32mm: commit {commit}, `-append '{IA32MM_APPEND}'`; numbers are the "
                    "`# lowmem:` line (free_lowmem_kib, lowmem_kib = all usable RAM below the lowmem limit, "
                    "mem_map_kib).")
    md = markdown(boots, sizes, systems, labels, meta)

    write_tsv(f"{out}/lowmem.tsv", boots)
    write_boots_tsv(f"{out}/boots.tsv", boots)
    with open(f"{out}/lowmem.md", "w") as f:
        f.write(md)
    err = plot(out, boots, sizes, systems, labels)

    print()
    print(md)
    print(f"Commands (run from {os.getcwd()}; serial output goes to the -serial file):")
    for b in boots:
        if b.cmd:
            print(f"  # {b.size} GiB {labels[b.system]} ({b.result}, {b.seconds:.1f} s)")
            print(f"  {shlex.join(b.cmd)}")
    print()
    print(f"compare: wrote {out}/lowmem.tsv, {out}/lowmem.md, {out}/boots.tsv"
          + (f", {out}/lowmem.png" if err is None else f"; no plot: {err}"))
    print(f"compare: {len(boots)} boots in {boot_time:.0f} s: "
          + ", ".join(f"{n} {r}" for r, n in sorted(
              {r: sum(1 for b in boots if b.result == r) for r in {b.result for b in boots}}.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
