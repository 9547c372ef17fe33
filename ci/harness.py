"""Boot one ia32mm kernel under Bochs or QEMU and judge what it reports.

    from harness import BochsRun, QemuRun
    result = BochsRun('64g-highpte-up-nopreempt-pgcl4', mem=1024, args='tests=mm.*').run()
    print(result.verdict())

A run boots build/<variant>/kernel.elf with the given kernel command line,
waits for the kernel to end (or for the timeout), and returns a Result: the
status (pass, fail, refused, panic, timeout, crash), the parsed KTAP report,
and every inconsistency found between the report, its summary line and the
status the kernel signalled.  Any inconsistency makes the run a failure.

The kernel signals its status twice (see README.md, "Test protocol"):
  * a byte to port 0xf4, which QEMU's isa-debug-exit turns into the exit
    code (byte << 1) | 1;
  * a status word in EAX followed by the Bochs magic breakpoint
    (xchg bx, bx), which stops Bochs at its debugger prompt.

Every run writes build/logs/<name>/: com1.log, e9.log, bochs.log or
qemu.log, the run's bochsrc and transcript.txt (the debugger dialogue).
"""

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import audit as tlb_audit

REPO = Path(__file__).resolve().parent.parent
BUILD = REPO / 'build'
LOGS = BUILD / 'logs'
BOCHSRC = REPO / 'bochsrc'
MKIMAGE = Path(os.environ.get('IA32MM_MKIMAGE', REPO / 'tools' / 'mkimage.sh'))

DEFAULT_VARIANT = '64g-highpte-up-nopreempt-pgcl4'
DEFAULT_MEM = 1024
# PAE, PGE, PSE, NX and an xAPIC; works with count=2 and 4.
DEFAULT_BOCHS_CPU = 'core2_penryn_t9600'
# QEMU's core2duo has PAE and NX (its default qemu32 has no NX).
DEFAULT_QEMU_CPU = 'core2duo'
BOCHS_HOST_MEM_MAX = 2048
QEMU_I386_MAX_MIB = 61 * 1024      # 36 physical address bits, minus the PCI hole

STATUSES = ('pass', 'fail', 'refused', 'panic', 'timeout', 'crash')
STATUS_WORDS = {0x600D600D: 'pass', 0xBAD0BAD0: 'fail', 0xBAD0C0DE: 'refused'}
PANIC_WORD = 0xDEAD0000            # | exception vector, 0xff = software panic
QEMU_EXITS = {(0x10 << 1) | 1: 'pass', (0x11 << 1) | 1: 'fail',
              (0x12 << 1) | 1: 'refused', (0x13 << 1) | 1: 'panic'}
VECTORS = {0: '#DE', 1: '#DB', 2: 'NMI', 3: '#BP', 4: '#OF', 5: '#BR', 6: '#UD',
           7: '#NM', 8: '#DF', 10: '#TS', 11: '#NP', 12: '#SS', 13: '#GP',
           14: '#PF', 16: '#MF', 17: '#AC', 18: '#MC', 19: '#XM', 0xff: 'software'}

TAIL_LINES = 20


class HarnessError(Exception):
    """The run could not be set up (missing kernel, image tool failed...)."""


def default_timeout(emu: str, mem: int) -> int:
    """Seconds the guest may run once the emulator is up.

    Bochs executes about 50-65 million guest instructions per second, so a
    kernel that touches all of its RAM takes longer with more of it."""
    gib = mem / 1024
    if emu == 'bochs':
        return int(180 + 60 * gib)
    return int(60 + 10 * gib)


def bochs_startup_allowance(mem: int) -> int:
    """Seconds until Bochs shows its first prompt.

    Start-up grows quadratically with guest RAM (2048 MiB: 5 s, 4608: 7-25 s,
    8192: about 2 minutes)."""
    gib = mem / 1024
    return int(30 + 2 * gib * gib)


# --------------------------------------------------------------------------
# The KTAP report

@dataclass
class Case:
    """One KTAP result line: `ok 3 suite.name # SKIP why`."""
    ok: bool
    number: int
    name: str
    directive: str = ''             # the text after '#', '' if none

    @property
    def skipped(self) -> bool:
        return self.directive.upper().startswith('SKIP')

    @property
    def passed(self) -> bool:
        return self.ok and not self.skipped

    @property
    def failed(self) -> bool:
        return not self.ok and not self.skipped

    def as_tuple(self) -> Tuple[bool, int, str, str]:
        return (self.ok, self.number, self.name, self.directive)


@dataclass
class Report:
    """What the kernel printed, parsed."""
    version: Optional[str] = None   # '1' from 'KTAP version 1'
    plan: Optional[int] = None      # N from '1..N'
    cases: List[Case] = field(default_factory=list)
    summary: Optional[Tuple[int, int, int]] = None   # passed, failed, skipped
    status: Optional[str] = None    # from '# ia32mm: status=...'
    lowmem: dict = field(default_factory=dict)
    cpus: Optional[Tuple[int, int]] = None           # listed, online
    bench: List[dict] = field(default_factory=list)
    panic: List[str] = field(default_factory=list)
    errors: List[str] = field(default_factory=list)  # malformed lines

    def counts(self) -> Tuple[int, int, int]:
        return (sum(c.passed for c in self.cases),
                sum(c.failed for c in self.cases),
                sum(c.skipped for c in self.cases))

    def failed_cases(self) -> List[Case]:
        return [c for c in self.cases if c.failed]


RE_VERSION = re.compile(r'^KTAP version (\S+)\s*$')
RE_PLAN = re.compile(r'^1\.\.(\d+)\s*$')
RE_CASE = re.compile(r'^(not ok|ok) (\d+)\b *(?:- )?([^#]*?)\s*(?:#\s*(.*?))?\s*$')
RE_SUMMARY = re.compile(r'^# ia32mm: (\d+) passed, (\d+) failed, (\d+) skipped\s*$')
RE_STATUS = re.compile(r'^# ia32mm: status=(\S+)\s*$')
RE_LOWMEM = re.compile(r'^# lowmem:\s*(.*)$')
RE_BENCH = re.compile(r'^# bench:\s*(.*)$')
RE_CPUS = re.compile(r'^# cpus: listed=(\d+) online=(\d+)')


def parse_report(text: str) -> Report:
    """Parse the kernel's output.  Lines that are not part of the protocol
    (banner, diagnostics, boot loader messages) are ignored; indented lines
    (nested KTAP) are not counted as results of the top level."""
    report = Report()
    for line in text.replace('\r', '').split('\n'):
        _parse_line(report, line)
    return report


def _parse_line(report: Report, line: str) -> None:
    m = RE_VERSION.match(line)
    if m:
        if report.version is not None:
            report.errors.append('a second KTAP version line')
        report.version = m.group(1)
        return
    m = RE_PLAN.match(line)
    if m:
        if report.plan is not None:
            report.errors.append(f'a second plan line: {line!r}')
        report.plan = int(m.group(1))
        return
    m = RE_CASE.match(line)
    if m:
        report.cases.append(Case(m.group(1) == 'ok', int(m.group(2)),
                                 m.group(3), m.group(4) or ''))
        return
    if line.startswith('PANIC:'):
        report.panic.append(line)
        return
    if line.startswith('#'):
        _parse_comment(report, line)


def _parse_comment(report: Report, line: str) -> None:
    m = RE_SUMMARY.match(line)
    if m:
        if report.summary is not None:
            report.errors.append('a second summary line')
        report.summary = tuple(int(g) for g in m.groups())
        return
    m = RE_STATUS.match(line)
    if m:
        report.status = m.group(1)
        return
    m = RE_LOWMEM.match(line)
    if m:
        report.lowmem = _parse_fields(report, m.group(1), line)
        return
    m = RE_CPUS.match(line)
    if m:
        report.cpus = (int(m.group(1)), int(m.group(2)))
        return
    m = RE_BENCH.match(line)
    if m and m.group(1).startswith('{'):      # other '# bench:' text is commentary
        try:
            report.bench.append(json.loads(m.group(1)))
        except ValueError as e:
            report.errors.append(f'bad bench JSON ({e}): {line!r}')


def _parse_fields(report: Report, text: str, line: str) -> dict:
    fields = {}
    for word in text.split():
        key, sep, value = word.partition('=')
        if not sep or not value.isdigit():
            report.errors.append(f'bad lowmem field {word!r}: {line!r}')
            continue
        fields[key] = int(value)
    return fields


def consistency_problems(report: Report, status: str) -> List[str]:
    """Everything that does not add up between the KTAP results, the plan,
    the summary line, the status line and the status the kernel signalled
    (status word or exit code).  Empty for a coherent report."""
    if status not in ('pass', 'fail', 'refused', 'panic'):
        return []               # no signal from the kernel: nothing to compare
    problems = list(report.errors)
    if report.status is None:
        problems.append("no '# ia32mm: status=' line")
    elif report.status != status:
        problems.append(f'status line says {report.status}, the kernel signalled {status}')
    if status in ('pass', 'fail'):
        problems += _result_problems(report, status)
    return problems


def _result_problems(report: Report, status: str) -> List[str]:
    problems = []
    if report.version is None:
        problems.append("no 'KTAP version' line")
    if report.plan is None:
        problems.append('no KTAP plan line (1..N)')
    elif report.plan != len(report.cases):
        problems.append(f'plan says {report.plan} tests, {len(report.cases)} results')
    problems += _numbering_problems(report.cases)
    counts = report.counts()
    if report.summary is None:
        problems.append('no summary line (# ia32mm: P passed, F failed, S skipped)')
    elif report.summary != counts:
        problems.append('summary says %d passed, %d failed, %d skipped; '
                        'results give %d, %d, %d' % (report.summary + counts))
    if status == 'pass' and counts[1]:
        problems.append(f'kernel signalled pass but {counts[1]} tests failed')
    if status == 'fail' and not counts[1]:
        problems.append('kernel signalled fail but no test failed')
    return problems


# COM1 may lack the last characters still in the emulated UART when the
# emulator stopped (Bochs times the transmission; the kernel does not wait
# for the transmitter to drain).
COM1_LAG = 16


def cpu_problems(run: 'GuestRun', report: Report, status: str) -> List[str]:
    """An SMP variant must bring up every CPU it was given."""
    wanted = getattr(run, 'cpus', 1)
    if '-smp-' not in run.variant or wanted < 2 or status not in ('pass', 'fail'):
        return []
    if report.cpus is None:
        return ["no '# cpus:' line"]
    listed, online = report.cpus
    if online < wanted:
        return [f'only {online} of {wanted} CPUs came up (the firmware listed {listed})']
    return []


def console_problems(e9: str, com1: str) -> List[str]:
    """The kernel writes the same text to COM1 and port 0xE9; COM1 also
    carries the boot loader's lines before the kernel's."""
    e9, com1 = e9.rstrip('\n'), com1.replace('\r', '').rstrip('\n')
    if not e9 and not com1:
        return []
    if not e9 or not com1:
        return [f'no output on {"port 0xE9" if not e9 else "COM1"}']
    start = com1.find(e9.split('\n', 1)[0])
    kernel_part = com1[start:] if start >= 0 else ''
    if e9.startswith(kernel_part) and len(e9) - len(kernel_part) <= COM1_LAG:
        return []
    line = _first_difference(e9, kernel_part)
    return [f'COM1 and port 0xE9 output differ from line {line} on']


def _first_difference(a: str, b: str) -> int:
    for number, (x, y) in enumerate(zip(a.split('\n'), b.split('\n')), 1):
        if x != y:
            return number
    return min(a.count('\n'), b.count('\n')) + 1


def _numbering_problems(cases: List[Case]) -> List[str]:
    seen, problems = set(), []
    for expected, case in enumerate(cases, 1):
        if case.number in seen:
            problems.append(f'duplicate test number {case.number} ({case.name})')
        elif case.number != expected:
            problems.append(f'test number {case.number} ({case.name}) where {expected} was expected')
        seen.add(case.number)
    return problems


# --------------------------------------------------------------------------
# The outcome of one run

@dataclass
class Signal:
    """How the emulator ended, before the report is looked at."""
    status: str                     # one of STATUSES
    detail: str = ''                # why, for timeout and crash
    exit_code: Optional[int] = None  # emulator's exit status
    status_word: Optional[int] = None
    cpu_state: str = ''             # registers captured after a timeout/crash


@dataclass
class Result:
    name: str
    emu: str
    variant: str
    args: str
    status: str
    reason: str
    report: Report
    problems: List[str]
    exit_code: Optional[int]
    status_word: Optional[int]
    elapsed: float
    logdir: Path
    output: str                     # the guest's text (E9, else COM1)
    cpu_state: str = ''
    audit: List[tlb_audit.Outcome] = field(default_factory=list)  # TLB audit points answered

    def audit_failures(self) -> List[tlb_audit.Outcome]:
        return [o for o in self.audit if o.verdict != tlb_audit.PASS]

    @property
    def ok(self) -> bool:
        """Passed: status pass, no failed test, a coherent report."""
        return self.status == 'pass' and not self.problems

    @property
    def ktap(self) -> List[Tuple[bool, int, str, str]]:
        return [c.as_tuple() for c in self.report.cases]

    def tail(self, n: int = TAIL_LINES) -> List[str]:
        lines = self.output.rstrip('\n').split('\n')
        return lines[-n:] if self.output else []

    def failure_lines(self, context: int = 4) -> List[str]:
        """Each `not ok` line with the diagnostics printed just before it."""
        lines, picked = self.output.split('\n'), []
        for i, line in enumerate(lines):
            if not line.startswith('not ok'):
                continue
            start = i
            while start > 0 and i - start < context and lines[start - 1].startswith('#'):
                start -= 1
            picked += lines[start:i + 1]
        return picked

    def verdict(self) -> str:
        p, f, s = self.report.counts()
        word = 'PASS' if self.ok else 'FAIL'
        text = f'{word} {self.name}: status={self.status}, {p} passed, {f} failed, {s} skipped'
        text += f' ({self.elapsed:.1f} s)'
        return text + (f': {self.reason}' if self.reason else '')


def judge(run: 'GuestRun', signal: Signal, e9: str, com1: str, elapsed: float) -> Result:
    """Combine the emulator's signal with the parsed report.  The report is
    read from port 0xE9 (only the kernel writes there), else from COM1
    (which also carries the boot loader's messages)."""
    output = e9 or com1
    report = parse_report(output)
    problems = consistency_problems(report, signal.status)
    if signal.status in ('pass', 'fail', 'refused', 'panic'):
        problems += console_problems(e9, com1)
    problems += cpu_problems(run, report, signal.status)
    outcomes = list(getattr(run, 'audit_outcomes', []))
    reason = _reason(signal, report, problems, output)
    bad = [o for o in outcomes if o.verdict != tlb_audit.PASS]
    if bad:
        reason += ('; ' if reason else '') + f'{len(bad)} audit points failed, first: ' + \
            bad[0].line() + (f' (transcript {bad[0].transcript_path})'
                             if bad[0].transcript_path else '')
    return Result(name=run.name, emu=run.emu, variant=run.variant, args=run.args,
                  status=signal.status, reason=reason,
                  report=report, problems=problems, exit_code=signal.exit_code,
                  status_word=signal.status_word, elapsed=elapsed,
                  logdir=run.logdir, output=output, cpu_state=signal.cpu_state,
                  audit=outcomes)


def _reason(signal: Signal, report: Report, problems: List[str], output: str) -> str:
    parts = []
    if signal.status == 'fail':
        names = [c.name for c in report.failed_cases()]
        shown = ', '.join(names[:5]) + (', ...' if len(names) > 5 else '')
        parts.append(f'{len(names)} tests failed: {shown}')
    elif signal.status == 'panic':
        parts.append(_panic_reason(signal, report))
    elif signal.status == 'refused':
        parts.append('refused to run: ' + (refusal_reason(output) or 'no reason printed'))
    elif signal.status in ('timeout', 'crash'):
        parts.append(signal.detail)
    if problems:
        parts.append('inconsistent report: ' + '; '.join(problems))
    return '; '.join(p for p in parts if p)


def _panic_reason(signal: Signal, report: Report) -> str:
    text = 'panic'
    if signal.status_word is not None:
        vector = signal.status_word & 0xff
        text += f' (vector {vector:#04x} {VECTORS.get(vector, "?")})'
    if report.panic:
        text += ': ' + report.panic[0][len('PANIC:'):].strip()
    return text


def refusal_reason(output: str) -> str:
    """Why a refusing kernel refused: the line it printed just before its
    status line (the kernel prints its reason last)."""
    lines = [l for l in output.replace('\r', '').split('\n') if l.strip()]
    for before, line in zip(lines, lines[1:]):
        if RE_STATUS.match(line):
            return before.lstrip('# ').strip()
    return ''


# --------------------------------------------------------------------------
# Disk images

def make_disk(out: Path, kernel: Path, args: str, log: Path) -> None:
    """A one-kernel syslinux disk image that boots `kernel args` at once."""
    with open(log, 'a') as f:
        proc = subprocess.run(['bash', str(MKIMAGE), '--single', str(out), str(kernel), args],
                              stdout=f, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    if proc.returncode != 0 or not out.exists():
        raise HarnessError(f'{MKIMAGE.name} --single failed (exit {proc.returncode}), see {log}')


# The swap disk: a raw file whose first sector starts with the signature the
# kernel looks for (mm/swap.h) -- a disk without it is never written --
# zeros after it, and slots from SWAP_DATA_OFFSET on.  Its size is a whole
# number of 16-head, 63-sector cylinders, as Bochs' flat disks want.
SWAP_MAGIC = b'IA32MM-SWAP-V1\0'
SWAP_DATA_OFFSET = 64 * 1024
CYLINDER = 16 * 63 * 512


def make_swap_disk(out: Path, mib: int) -> Path:
    """A zeroed (sparse) swap disk of at least mib MiB of slots."""
    size = -(-(mib * 1024 * 1024 + SWAP_DATA_OFFSET) // CYLINDER) * CYLINDER
    with open(out, 'wb') as f:
        f.truncate(size)
        f.write(SWAP_MAGIC)
    return out


def partition_offset(image: Path) -> int:
    """Byte offset of the first MBR partition, 0 for a partitionless image."""
    with open(image, 'rb') as f:
        mbr = f.read(512)
    if len(mbr) < 512 or mbr[510:512] != b'\x55\xaa':
        return 0
    for slot in range(4):
        entry = mbr[446 + 16 * slot: 462 + 16 * slot]
        if entry[4] != 0:
            return int.from_bytes(entry[8:12], 'little') * 512
    return 0


SYSLINUX_CFGS = ('::/syslinux/syslinux.cfg', '::/boot/syslinux/syslinux.cfg',
                 '::/syslinux.cfg')
MENU_ONLY = re.compile(r'^\s*(UI|PROMPT|TIMEOUT|TOTALTIMEOUT|ONTIMEOUT|NOESCAPE)\b', re.I)


def copy_image_boot_default(src: Path, dst: Path) -> None:
    """Copy a syslinux image and rewrite the copy's syslinux.cfg so that the
    default label boots at once (PROMPT 0, no menu, no timeout)."""
    shutil.copyfile(src, dst)
    where = f'{dst}@@{partition_offset(dst)}'
    env = dict(os.environ, MTOOLS_SKIP_CHECK='1')
    for cfg in SYSLINUX_CFGS:
        got = subprocess.run(['mtype', '-i', where, cfg], capture_output=True, env=env)
        if got.returncode == 0:
            break
    else:
        raise HarnessError(f'no syslinux.cfg found in {src}')
    text = boot_default_config(got.stdout.decode('latin-1'))
    with tempfile.NamedTemporaryFile('w', suffix='.cfg', delete=False) as tmp:
        tmp.write(text)
    try:
        subprocess.run(['mcopy', '-o', '-i', where, tmp.name, cfg], check=True,
                       capture_output=True, env=env)
    finally:
        os.unlink(tmp.name)


def boot_default_config(text: str) -> str:
    """syslinux.cfg text rewritten to boot its default label without asking."""
    lines = [l for l in text.replace('\r', '').split('\n') if not MENU_ONLY.match(l)]
    has_default = any(re.match(r'\s*DEFAULT\s', l, re.I) for l in lines)
    if not has_default:
        label = _menu_default_label(lines)
        if label:
            lines.insert(0, f'DEFAULT {label}')
    return 'PROMPT 0\nTIMEOUT 0\n' + '\n'.join(lines).rstrip('\n') + '\n'


def _menu_default_label(lines: List[str]) -> Optional[str]:
    """The label marked MENU DEFAULT, else the first label."""
    current = first = None
    for line in lines:
        m = re.match(r'\s*LABEL\s+(\S+)', line, re.I)
        if m:
            current = m.group(1)
            first = first or current
        elif current and re.match(r'\s*MENU\s+DEFAULT\b', line, re.I):
            return current
    return first


# --------------------------------------------------------------------------
# Runs

class LineEcho:
    """Hands complete lines of the guest's text to a callback as they come."""

    def __init__(self, echo: Optional[Callable[[str], None]]):
        self.echo = echo
        self.partial = ''

    def feed(self, text: str) -> None:
        if not self.echo or not text:
            return
        lines = (self.partial + text.replace('\r', '')).split('\n')
        self.partial = lines.pop()
        for line in lines:
            self.echo(line)

    def flush(self) -> None:
        if self.echo and self.partial:
            self.echo(self.partial)
        self.partial = ''


class LiveProcesses:
    """Emulators running now, so that an interrupted caller (Ctrl-C in
    ci/check.py, whose runs go on in other threads) can stop them all."""

    def __init__(self):
        self.lock = threading.Lock()
        self.stoppers = {}

    def add(self, key, stop: Callable[[], None]) -> None:
        with self.lock:
            self.stoppers[key] = stop

    def remove(self, key) -> None:
        with self.lock:
            self.stoppers.pop(key, None)

    def stop_all(self) -> None:
        with self.lock:
            stoppers = list(self.stoppers.values())
        for stop in stoppers:
            try:
                stop()
            except OSError:
                pass


LIVE = LiveProcesses()


class GuestRun:
    """What Bochs and QEMU runs share: configuration, the log directory, the
    guest's text and the judgement.  Subclasses implement _execute()."""
    emu = ''
    default_cpu = ''

    def __init__(self, variant: str = DEFAULT_VARIANT, mem: Optional[int] = None,
                 cpus: Optional[int] = None, cpu_model: Optional[str] = None,
                 args: str = '', timeout: Optional[float] = None,
                 name: Optional[str] = None, kernel: Optional[Path] = None,
                 image: Optional[Path] = None, swap_mib: Optional[int] = None,
                 echo: Optional[Callable[[str], None]] = None):
        self.variant = variant
        self.mem = int(mem or DEFAULT_MEM)
        self.cpus = int(cpus or 1)
        self.cpu_model = cpu_model or self.default_cpu
        self.args = args or ''
        # Each extra CPU is emulated too (and spins for locks): half again per CPU.
        self.timeout = float(timeout or default_timeout(self.emu, self.mem) * (1 + (self.cpus - 1) / 2))
        self.name = name or f'{self.emu}-{variant}'
        self.logdir = LOGS / self.name
        self.kernel = Path(kernel) if kernel else BUILD / variant / 'kernel.elf'
        self.image = Path(image) if image else None     # boot this image (a copy)
        self.swap_mib = int(swap_mib) if swap_mib else None  # a swap disk of this size
        self.echo = LineEcho(echo)

    def log(self, name: str) -> Path:
        return self.logdir / name

    def run(self) -> Result:
        if not self.image and not self.kernel.exists():
            raise HarnessError(f'{self.kernel} is missing: run make VARIANT={self.variant} kernel first')
        if self.image and not self.image.exists():
            raise HarnessError(f'{self.image} is missing: run make image first')
        self._fresh_logdir()
        start = time.monotonic()
        try:
            signal = self._execute()
        except HarnessError as e:
            signal = Signal('crash', str(e))
        self.echo.flush()
        result = judge(self, signal, self._read('e9.log'), self._read('com1.log'),
                       time.monotonic() - start)
        if result.ok:
            self.log('disk.img').unlink(missing_ok=True)   # 32 MiB; rebuilt in a second
            self.log('swap.img').unlink(missing_ok=True)
        return result

    def _fresh_logdir(self) -> None:
        # A previous run of the same name may have left a disk lock, sockets
        # or logs: start from nothing.
        shutil.rmtree(self.logdir, ignore_errors=True)
        self.logdir.mkdir(parents=True)

    def _swap_disk(self) -> Optional[Path]:
        """The run's own swap disk (--swap-mib N), or None: see make_swap_disk."""
        if not self.swap_mib:
            return None
        return make_swap_disk(self.log('swap.img'), self.swap_mib)

    def _disk(self) -> Path:
        """The run's own disk image: a copy of self.image booting its default
        label, or a one-kernel image booting self.kernel with self.args."""
        disk = self.log('disk.img')
        if self.image:
            copy_image_boot_default(self.image, disk)
        else:
            make_disk(disk, self.kernel, self.args, self.log('mkimage.log'))
        return disk

    def _read(self, name: str) -> str:
        path = self.log(name)
        return path.read_text('utf-8', 'replace').replace('\r', '') if path.exists() else ''

    def _execute(self) -> Signal:
        raise NotImplementedError


RE_IP = re.compile(r'(?:\brip: [0-9a-f]{8}_|\bEIP=)([0-9a-f]{8})')


def symbolize(kernel: Path, address: int) -> str:
    """`function+0xoff` for a kernel text address, from the ELF's symbols."""
    try:
        out = subprocess.run(['nm', '-n', str(kernel)], capture_output=True, text=True,
                             check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ''
    best = None
    for line in out.split('\n'):
        parts = line.split()
        if len(parts) == 3 and parts[1] in 'tTwW' and int(parts[0], 16) <= address:
            best = (int(parts[0], 16), parts[2])
    return f'{best[1]}+{address - best[0]:#x}' if best else ''


def where_stopped(kernel: Path, cpu_state: str) -> str:
    """' (CPU at ADDRESS symbol+off)' for every instruction pointer in a
    register dump; '' if there is none."""
    places = []
    for m in RE_IP.finditer(cpu_state):
        address = int(m.group(1), 16)
        symbol = symbolize(kernel, address) if kernel.exists() else ''
        places.append(f'{address:#010x}' + (f' {symbol}' if symbol else ''))
    return f' (stopped at {", ".join(places)})' if places else ''


def status_from_word(word: int) -> str:
    if word in STATUS_WORDS:
        return STATUS_WORDS[word]
    if word & 0xffffff00 == PANIC_WORD:
        return 'panic'
    return 'crash'


# ---- Bochs

PROMPT = r'<bochs:\d+> '
RE_MAGIC = re.compile(r'\((\d+)\) Magic breakpoint')
RE_RAX = re.compile(r'\b[re]ax: (?:[0-9a-f]{8}_)?([0-9a-f]{8})\b')
RE_BOCHS_EXIT = re.compile(r'Bochs is exiting with the following message:\r?\n(.*?)\r?\n', re.S)
RE_TRIPLE = re.compile(r'3rd \((\d+)\) exception with no resolution')
# Lines Bochs itself prints on the terminal while the guest runs: CPU
# positions after a stop or at exit, the exit banner, log lines.
RE_OTHER_CPU = re.compile(r'^(Next at t=\d+$|\(\d+\) \[0x[0-9a-f]+\] )')
RE_BOCHS_LINE = re.compile(r'^(\(\d+\)\.?\s?\[(0x)?[0-9a-f]+\] |={20,}$|Bochs is exiting|'
                           r'Next at t=\d|\d{11}[idep]\[)')


class BochsRun(GuestRun):
    """Boot the variant's kernel from its own syslinux disk image under Bochs,
    driving Bochs' debugger through a pty."""
    emu = 'bochs'
    default_cpu = DEFAULT_BOCHS_CPU

    def rc_text(self, disk: Path) -> str:
        values = {'MEM': self.mem, 'HOST_MEM': min(self.mem, BOCHS_HOST_MEM_MAX),
                  'CPU_MODEL': self.cpu_model, 'CPUS': self.cpus, 'DISK': disk,
                  'COM1': self.log('com1.log'), 'LOG': self.log('bochs.log'),
                  'SWAP_DISK': self._swap_disk()}
        out = []
        for line in BOCHSRC.read_text().split('\n'):
            if '@SWAP_DISK@' in line and not values['SWAP_DISK'] and not line.lstrip().startswith('#'):
                continue                # no swap disk in this run: no second drive
            if not line.lstrip().startswith('#'):
                line = re.sub(r'@([A-Z_0-9]+)@', lambda m: str(values[m.group(1)]), line)
            out.append(line)
        return '\n'.join(out)

    def prepare(self) -> Path:
        """Disk image and bochsrc in the log directory; returns the bochsrc."""
        rc = self.log('bochsrc')
        rc.write_text(self.rc_text(self._disk()))
        return rc

    def command(self, rc: Path) -> List[str]:
        # -unlock: a killed run's disk.img.lock never blocks the next one.
        return ['bochs', '-unlock', '-q', '-f', str(rc)]

    def _execute(self) -> Signal:
        import pexpect
        rc = self.prepare()
        env = dict(os.environ, TERM='dumb')     # no bracketed-paste escapes
        with open(self.log('transcript.txt'), 'w') as transcript:
            child = pexpect.spawn(self.command(rc)[0], self.command(rc)[1:],
                                  cwd=str(self.logdir), env=env, encoding='utf-8',
                                  codec_errors='replace', dimensions=(50, 250))
            child.delaybeforesend = None        # else 50 ms before every command
            child.logfile_read = transcript
            LIVE.add(child, lambda: child.terminate(force=True))
            try:
                return BochsDialogue(self, child).run()
            finally:
                LIVE.remove(child)
                if child.isalive():
                    child.terminate(force=True)
                child.close()


class BochsDialogue:
    """One conversation with Bochs' debugger: start, continue, wait for the
    magic breakpoint (or EOF, or the timeout), read EAX, quit."""

    def __init__(self, run: BochsRun, child):
        import pexpect
        self.pexpect = pexpect
        self.run_ = run
        self.child = child
        self.e9 = open(run.log('e9.log'), 'w')
        self.bochs_spoke = False
        self.auditor = tlb_audit.Auditor(self.cmd, run.cpus, run.logdir)
        run.audit_outcomes = self.auditor.outcomes

    def run(self) -> Signal:
        try:
            return self._run()
        finally:
            self.e9.close()

    def _run(self) -> Signal:
        px = self.pexpect
        allowance = bochs_startup_allowance(self.run_.mem)
        got = self.child.expect([PROMPT, px.EOF, px.TIMEOUT], timeout=allowance)
        if got == 1:
            return self._exited('bochs exited during start-up', self.child.before)
        if got == 2:
            return Signal('crash', f'bochs showed no debugger prompt within {allowance} s')
        self.child.sendline('c')
        self.child.expect_exact('c\r\n', timeout=10)
        return self._watch(time.monotonic() + self.run_.timeout)

    def _watch(self, deadline: float) -> Signal:
        """Read the guest's text line by line until something ends the run."""
        px = self.pexpect
        while True:
            left = max(deadline - time.monotonic(), 0)
            got = self.child.expect(['\r\n', PROMPT, px.EOF, px.TIMEOUT], timeout=left)
            text = self.child.before
            magic = RE_MAGIC.search(text) if got <= 1 else None
            if magic:
                # SMP: Bochs may report the other CPUs ("Next at t=", "(0) [...")
                # before "(1) Magic breakpoint"; those lines are not the guest's
                # and must not end its text.
                before = text[:magic.start()].replace('\r', '').split('\n')
                self._guest('\n'.join(l for l in before if not RE_BOCHS_LINE.match(l)))
                signal = self._magic(int(magic.group(1)), got == 1)
                if signal:
                    return signal
                continue                # an audit point, answered: the guest goes on
            if got == 2:
                self._guest(text)
                return self._exited('bochs exited without a magic breakpoint', text)
            if got == 0 and self.run_.cpus > 1 and RE_OTHER_CPU.match(text.replace('\r', '')):
                continue                # SMP: Bochs shows the other CPUs before "(N) Magic breakpoint"
            self._guest(text + '\n' if got == 0 else text)
            if got == 1:
                return self._stopped()
            if got == 3:
                return self._timed_out()

    def _guest(self, text: str) -> None:
        """Guest text from the pty (Bochs prints port 0xE9 bytes on its
        standard output); stops at the first line Bochs printed itself."""
        if self.bochs_spoke:
            return
        lines = text.replace('\r', '').split('\n')
        for i, line in enumerate(lines):
            if RE_BOCHS_LINE.match(line):
                self.bochs_spoke = True     # the guest has stopped: all the rest is Bochs
                text = '\n'.join(lines[:i]) + ('\n' if i else '')
                break
        else:
            text = '\n'.join(lines)
        self.e9.write(text)
        self.e9.flush()
        self.run_.echo.feed(text)

    def cmd(self, command: str, timeout: float = 10) -> str:
        """Send a debugger command; its output, without the echo."""
        self.child.sendline(command)
        self.child.expect(PROMPT, timeout=timeout)
        return self.child.before.replace('\r', '').split('\n', 1)[-1]

    def _magic(self, cpu: int, at_prompt: bool) -> Optional[Signal]:
        """The end of the run (a status word in EAX), or None after an audit
        point, which is answered (audit.py) and the guest continued."""
        if not at_prompt:
            self.child.expect(PROMPT, timeout=10)
        if cpu:
            self.cmd(f'set $cpu = {cpu}')
        regs = self.cmd('r')
        m = RE_RAX.search(regs)
        if m and int(m.group(1), 16) == tlb_audit.AUDIT_MAGIC:
            self.auditor.answer(regs)
            self.child.sendline('c')
            self.child.expect_exact('c\r\n', timeout=10)
            return None
        exit_code = self._quit()
        if not m:
            return Signal('crash', 'magic breakpoint, but no EAX in the r output',
                          exit_code, cpu_state=regs)
        word = int(m.group(1), 16)
        status = status_from_word(word)
        detail = f'unknown status word {word:#010x}' if status == 'crash' else ''
        return Signal(status, detail, exit_code, word, regs if status != 'pass' else '')

    def _stopped(self) -> Signal:
        state = self._cpu_state()
        return Signal('crash', 'bochs stopped in its debugger without a magic breakpoint',
                      self._quit(), cpu_state=state)

    def _timed_out(self) -> Signal:
        self.child.sendcontrol('c')            # SIGINT: back to the prompt
        try:
            self.child.expect(PROMPT, timeout=15)
            state = self.child.before.replace('\r', '').lstrip('^C') + self._cpu_state()
            code = self._quit()
        except (self.pexpect.TIMEOUT, self.pexpect.EOF):
            state, code = '(bochs did not stop on Ctrl-C)', None
        detail = f'timeout after {self.run_.timeout:g} s' + where_stopped(self.run_.kernel, state)
        return Signal('timeout', detail, code, cpu_state=state)

    def _cpu_state(self) -> str:
        """Registers and control registers of every CPU."""
        if self.run_.cpus == 1:
            return self.cmd('r') + self.cmd('creg')
        state = ''
        for cpu in range(self.run_.cpus):
            self.cmd(f'set $cpu = {cpu}')
            state += self.cmd('r') + self.cmd('creg')
        return state

    def _quit(self) -> Optional[int]:
        self.child.sendline('q')
        self.child.expect(self.pexpect.EOF, timeout=15)
        self.child.close()
        return self.child.exitstatus

    def _exited(self, what: str, terminal: str) -> Signal:
        self.child.close()
        reason = bochs_exit_reason(self.run_.log('bochs.log'), terminal, what)
        return Signal('crash', reason, self.child.exitstatus)


def bochs_exit_reason(log: Path, terminal: str, default: str) -> str:
    """Why Bochs exited, from its log (or its last words on the terminal)."""
    text = log.read_text('utf-8', 'replace') if log.exists() else ''
    m = RE_TRIPLE.search(text) or RE_TRIPLE.search(terminal)
    if m:
        vector = int(m.group(1))
        return f'triple fault (exception {vector} {VECTORS.get(vector, "")} could not be delivered)'
    for line in text.split('\n'):
        if '>>PANIC<<' in line:
            return 'bochs panic: ' + line.split('>>PANIC<<', 1)[1].strip()
    m = RE_BOCHS_EXIT.search(terminal)
    if m:
        return f'{default}: {m.group(1).strip()}'
    return default


# ---- QEMU

class QemuRun(GuestRun):
    """Boot under QEMU: straight from the ELF (Multiboot, boot='kernel'), from
    the disk image on IDE (boot='disk') or as a USB stick behind an xHCI or
    EHCI controller (boot='usb-xhci', 'usb-ehci')."""
    emu = 'qemu'
    default_cpu = DEFAULT_QEMU_CPU
    BOOTS = ('kernel', 'disk', 'usb-xhci', 'usb-ehci')

    def __init__(self, *a, boot: str = 'kernel', mttcg: bool = False, **kw):
        super().__init__(*a, **kw)
        self.mttcg = mttcg
        if boot not in self.BOOTS:
            raise HarnessError(f'unknown boot mode {boot!r} (one of {", ".join(self.BOOTS)})')
        if self.image and boot == 'kernel':
            boot = 'disk'
        self.boot = boot

    def binary(self) -> str:
        return 'qemu-system-i386' if self.mem <= QEMU_I386_MAX_MIB else 'qemu-system-x86_64'

    def command(self, monitor: str) -> List[str]:
        cmd = [self.binary(), '-cpu', self.cpu_model, '-smp', str(self.cpus),
               '-m', f'{self.mem}M', '-display', 'none', '-no-reboot',
               '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
               '-serial', f'file:{self.log("com1.log")}',
               '-debugcon', f'file:{self.log("e9.log")}',
               '-qmp', f'unix:{monitor},server=on,wait=off']
        if self.cpus > 1:
            # One host thread runs every vCPU in turn.  With a thread per vCPU
            # (MTTCG) QEMU 7.2 sets Accessed/Dirty with a plain store that can
            # bring back a PTE another vCPU has just cleared (the swap suite
            # then reads frames that were reclaimed); this way each page walk
            # is atomic, as on hardware and under Bochs, and on a 2-core host
            # it is also faster.  mttcg=True asks for a thread per vCPU all
            # the same, for runs that touch no user page tables and need the
            # vCPUs truly in parallel (make check (q): smp_alloc).
            cmd += ['-accel', 'tcg,thread=multi' if self.mttcg else 'tcg,thread=single']
        if self.mem > 2048:
            # Without this, large -m fails when the host does not overcommit;
            # host memory grows only with what the guest touches.
            cmd += ['-object', f'memory-backend-ram,id=ram0,size={self.mem}M,reserve=off',
                    '-machine', 'pc,memory-backend=ram0']
        swap = self._swap_disk()
        if swap:
            # The primary channel's slave, as under Bochs (bochsrc).
            cmd += ['-drive', f'file={swap},format=raw,if=ide,index=1']
        return cmd + self._boot_options()

    def _boot_options(self) -> List[str]:
        if self.boot == 'kernel':
            return ['-kernel', str(self.kernel), '-append', self.args]
        disk = self._disk()
        if self.boot == 'disk':
            return ['-drive', f'file={disk},format=raw,if=ide,index=0', '-boot', 'c']
        hc = {'usb-xhci': 'qemu-xhci', 'usb-ehci': 'usb-ehci'}[self.boot]
        return ['-device', f'{hc},id=hc',
                '-drive', f'if=none,id=stick,format=raw,file={disk}',
                '-device', 'usb-storage,bus=hc.0,drive=stick,bootindex=0']

    def _execute(self) -> Signal:
        with tempfile.TemporaryDirectory(prefix='ia32mm-qmon-') as tmp:
            monitor = os.path.join(tmp, 'monitor')
            cmd = self.command(monitor)
            with open(self.log('qemu.log'), 'w') as log:
                log.write(shlex.join(cmd) + '\n')
                log.flush()
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, cwd=str(self.logdir))
                LIVE.add(proc, proc.kill)
                try:
                    return self._wait(proc, monitor)
                finally:
                    LIVE.remove(proc)
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()

    def _wait(self, proc: subprocess.Popen, monitor: str) -> Signal:
        deadline = time.monotonic() + self.timeout
        tail = FileTail(self.log('e9.log'))
        while proc.poll() is None and time.monotonic() < deadline:
            self.echo.feed(tail.read())
            try:
                proc.wait(timeout=0.1)
            except subprocess.TimeoutExpired:
                pass
        if proc.poll() is None:
            state = qemu_monitor(monitor, 'info registers')
            self.echo.feed(tail.read())
            detail = f'timeout after {self.timeout:g} s' + where_stopped(self.kernel, state)
            return Signal('timeout', detail, cpu_state=state)
        self.echo.feed(tail.read())
        return self._signal(proc.returncode)

    def _signal(self, code: int) -> Signal:
        if code in QEMU_EXITS:
            return Signal(QEMU_EXITS[code], exit_code=code)
        if code == 0:
            return Signal('crash', 'the guest reset the machine without reporting a status '
                          '(triple fault or reboot)', code)
        last = self.log('qemu.log').read_text('utf-8', 'replace').strip().split('\n')[-1]
        return Signal('crash', f'qemu exited with status {code}: {last}', code)


class FileTail:
    """Reads what was appended to a file since the last call."""

    def __init__(self, path: Path):
        self.path = path
        self.pos = 0

    def read(self) -> str:
        try:
            with open(self.path, 'rb') as f:
                f.seek(self.pos)
                data = f.read()
        except FileNotFoundError:
            return ''
        self.pos += len(data)
        return data.decode('utf-8', 'replace')


def qemu_monitor(path: str, command: str, wait: float = 2.0) -> str:
    """Run one human-monitor command on a live QEMU through QMP (which,
    unlike the human monitor, does not echo keystrokes); its output."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(wait)
            s.connect(path)
            replies = s.makefile('r', encoding='utf-8', errors='replace')
            replies.readline()                          # the greeting
            for request in ({'execute': 'qmp_capabilities'},
                            {'execute': 'human-monitor-command',
                             'arguments': {'command-line': command}}):
                s.sendall(json.dumps(request).encode() + b'\n')
                reply = _qmp_reply(replies)
            return str(reply.get('return', reply))
    except (OSError, ValueError) as e:
        return f'(QEMU monitor unavailable: {e})'


def _qmp_reply(replies) -> dict:
    """The next reply, skipping asynchronous events."""
    while True:
        line = replies.readline()
        if not line:
            raise ValueError('QMP connection closed')
        message = json.loads(line)
        if 'event' not in message:
            return message


RUNNERS = {'bochs': BochsRun, 'qemu': QemuRun}
