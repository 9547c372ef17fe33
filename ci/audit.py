"""The TLB audit's debugger side: answers the kernel's audit breakpoints.

With the `audit` boot option, the kernel's audit suite stops at Bochs magic
breakpoints with EAX = AUDIT_MAGIC and a request in the other registers
(src/arch/audit.h has the layout).  BochsDialogue (harness.py) hands each
such stop to Auditor.answer(), which

  * decodes the request (point, check, address, expected frame or CR3,
    CPU, range, sequence number, the answer block's physical address);
  * asks the debugger, on the right CPU (`set $cpu = N`): `tlb LADDR` (the
    DTLB and ITLB slots the address indexes: a slot holds the address only
    if its lpf is the address's page), `page LADDR` (the page-table walk in
    memory, which never consults the TLB), `creg` (CR3, CR4.PAE), and under
    PAE `show "cpuN.PDPTR_CACHE"` (the PDPTE registers) beside
    `xp /8wx CR3` (the PDPT in memory);
  * decides, and writes the verdict into the answer block with `setpmem`
    (verdict, the frame the TLB held, the CPU, the page), then the caller
    continues the guest.

Every point is one line of build/logs/<run>/audit.log; a failing point's
whole debugger dialogue is kept in build/logs/<run>/audit-<seq>.txt.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

AUDIT_MAGIC = 0xAD17C0DE

POINTS = {1: 'kmap_atomic', 2: 'pkmap_flush', 3: 'try_to_unmap', 4: 'munmap', 5: 'cow',
          6: 'cr3_load', 7: 'pdpt', 8: 'global', 9: 'lazy_enter', 10: 'lazy_leave'}
MAPS, GONE, MATCH_WALK, CACHED, ABSENT, CR3, PDPT_STALE = range(1, 8)
CHECKS = {MAPS: 'maps', GONE: 'gone', MATCH_WALK: 'match-walk', CACHED: 'cached',
          ABSENT: 'absent', CR3: 'cr3', PDPT_STALE: 'pdpt-stale'}
ALL_CPUS = 1
PASS, FAIL, UNDECIDED = 1, 2, 3
VERDICTS = {PASS: 'pass', FAIL: 'fail', UNDECIDED: 'undecided'}
NONE = 0xffffffff               # "no frame" in the answer block
PAGE = 4096


# ---- parsers of the debugger's output

RE_REG = re.compile(r'\b(r[a-z0-9]{1,2}|e[a-z]{2})\s*: (?:([0-9a-f]{8})_)?([0-9a-f]{8})\b')


def parse_regs(text: str) -> Dict[str, int]:
    """`r` output -> {'eax': ..., 'ebx': ...} (32-bit values; Bochs prints
    rax: 00000000_600d600d on a 64-bit build)."""
    regs = {}
    for m in RE_REG.finditer(text):
        name = m.group(1)
        if name.startswith('r') and len(name) == 3 and name[1:] in (
                'ax', 'bx', 'cx', 'dx', 'si', 'di', 'sp', 'bp', 'ip'):
            name = 'e' + name[1:]
        regs[name] = int(m.group(3), 16)
    return regs


RE_TLB_ENTRY = re.compile(r'<(?:cpu\d+\.)?([ID]TLB)\.entry(\d+)>.*?\{(.*?)\}', re.S)
RE_FIELD = re.compile(r'^\s*(\w+) = (0x[0-9a-f]+|\d+)\s*$', re.M)


@dataclass
class TlbEntry:
    slot: int
    lpf: int
    ppf: int
    lpf_mask: int = 0

    @property
    def valid(self) -> bool:
        return self.lpf != 0xffffffffffffffff

    def frame_for(self, laddr: int) -> Optional[int]:
        """The 4 KiB frame this entry translates laddr's page to, or None if
        it does not hold that page."""
        if not self.valid or (self.lpf & ~0xfff) != (laddr & ~0xfff & 0xffffffff):
            return None
        return self.ppf >> 12


def parse_tlb(text: str) -> Dict[str, TlbEntry]:
    """`tlb LADDR` output -> {'ITLB': entry, 'DTLB': entry}."""
    out = {}
    for m in RE_TLB_ENTRY.finditer(text):
        fields = {k: int(v, 0) for k, v in RE_FIELD.findall(m.group(3))}
        if 'lpf' in fields and 'ppf' in fields:
            out[m.group(1)] = TlbEntry(int(m.group(2)), fields['lpf'], fields['ppf'],
                                       fields.get('lpf_mask', 0))
    return out


RE_MAPS = re.compile(r'linear page 0x[0-9a-f]+ maps to physical page 0x([0-9a-f]+)')
RE_NOT_MAPPED = re.compile(r'physical address not available for linear')


def parse_page(text: str) -> Optional[int]:
    """`page LADDR` output -> the 4 KiB frame the walk reaches, None if
    the walk ends at a not-present entry.  ValueError if neither is said."""
    m = RE_MAPS.search(text)
    if m:
        return int(m.group(1), 16) >> 12
    if RE_NOT_MAPPED.search(text):
        return None
    raise ValueError(f'unrecognised page output: {text.strip()[:200]!r}')


RE_CR3 = re.compile(r'^CR3=0x([0-9a-f]+)', re.M)
RE_CR4 = re.compile(r'^CR4=0x[0-9a-f]+:(.*)$', re.M)


def parse_creg(text: str) -> Tuple[int, bool]:
    """`creg` output -> (CR3, CR4.PAE).  Flag names are upper case when set."""
    m3, m4 = RE_CR3.search(text), RE_CR4.search(text)
    if not m3 or not m4:
        raise ValueError(f'unrecognised creg output: {text.strip()[:200]!r}')
    return int(m3.group(1), 16), 'PAE' in m4.group(1).split()


RE_PDPTE = re.compile(r'^\s*entry([0-3]) = (0x[0-9a-f]+)\s*$', re.M)


def parse_pdptr(text: str) -> List[int]:
    """`show "cpuN.PDPTR_CACHE"` output -> the four cached PDPTEs."""
    got = {int(i): int(v, 16) for i, v in RE_PDPTE.findall(text)}
    if sorted(got) != [0, 1, 2, 3]:
        raise ValueError(f'unrecognised PDPTR_CACHE output: {text.strip()[:200]!r}')
    return [got[i] for i in range(4)]


RE_XP_LINE = re.compile(r'^0x[0-9a-f]+ <[^>]*>:\s*((?:\s*0x[0-9a-f]{8})+)\s*$', re.M)


def parse_words(text: str) -> List[int]:
    """`xp /Nwx PADDR` output -> the words, in order."""
    words = []
    for m in RE_XP_LINE.finditer(text):
        words += [int(w, 16) for w in m.group(1).split()]
    return words


# ---- one audit point

@dataclass
class Request:
    point: int
    check: int
    flags: int
    seq: int
    laddr: int
    expect: int
    cpu: int
    pages: int
    answer: int                 # physical address of the answer block

    @classmethod
    def from_regs(cls, regs: Dict[str, int]) -> 'Request':
        ebx, esi = regs['ebx'], regs['esi']
        return cls(point=ebx & 0xff, check=(ebx >> 8) & 0xf, flags=(ebx >> 12) & 0xf,
                   seq=ebx >> 16, laddr=regs['ecx'], expect=regs['edx'], cpu=esi & 0xff,
                   pages=max(esi >> 16, 1), answer=regs['edi'])

    def describe(self) -> str:
        text = (f'#{self.seq} {POINTS.get(self.point, self.point)} '
                f'{CHECKS.get(self.check, self.check)} cpu {self.cpu}')
        if self.check in (CR3, PDPT_STALE):
            return text + f' cr3 {self.expect:#x}'
        text += f' laddr {self.laddr:#010x}'
        if self.pages > 1:
            text += f' +{self.pages} pages'
        if self.check != MATCH_WALK:
            text += f' frame {self.expect:#x}'
        return text + (' (every CPU)' if self.flags & ALL_CPUS else '')


@dataclass
class Outcome:
    request: Request
    verdict: int
    why: str = ''
    seen: int = NONE
    cpu: int = 0
    page: int = 0
    transcript: str = ''
    transcript_path: Optional[Path] = None

    def line(self) -> str:
        text = f'{self.request.describe()}: {VERDICTS[self.verdict]}'
        return text + (f': {self.why}' if self.why else '')


class Failed(Exception):
    def __init__(self, why: str, seen: int = NONE, cpu: int = 0, page: int = 0):
        super().__init__(why)
        self.seen, self.cpu, self.page = seen, cpu, page


class Auditor:
    """Answers audit breakpoints through cmd (send one debugger command,
    return its output).  cpus: how many CPUs the machine has."""

    def __init__(self, cmd: Callable[[str], str], cpus: int, logdir: Optional[Path] = None):
        self._cmd = cmd
        self.cpus = max(cpus, 1)
        self.logdir = logdir
        self.outcomes: List[Outcome] = []
        self.transcript: List[str] = []

    def cmd(self, command: str) -> str:
        out = self._cmd(command)
        self.transcript.append(f'<audit> {command}\n{out.rstrip()}\n')
        return out

    def answer(self, regs_text: str) -> Outcome:
        self.transcript = [f'<audit> r\n{regs_text.rstrip()}\n']
        req = Request.from_regs(parse_regs(regs_text))
        try:
            self._check(req)
            outcome = Outcome(req, PASS)
        except Failed as f:
            outcome = Outcome(req, FAIL, str(f), f.seen, f.cpu, f.page)
        except ValueError as e:
            outcome = Outcome(req, UNDECIDED, str(e))
        for offset, value in ((0, outcome.verdict), (4, outcome.seen), (8, outcome.cpu),
                              (12, outcome.page)):
            self.cmd(f'setpmem {req.answer + offset:#x} 4 {value:#x}')
        # Back to CPU 0, which the harness assumes selected at the next break
        # (its own breaks come from any CPU now that tasks run on every CPU).
        self.cmd('set $cpu = 0')
        outcome.transcript = '\n'.join(self.transcript)
        self._log(outcome)
        self.outcomes.append(outcome)
        return outcome

    def failures(self) -> List[Outcome]:
        return [o for o in self.outcomes if o.verdict != PASS]

    def _log(self, outcome: Outcome) -> None:
        if not self.logdir:
            return
        with open(self.logdir / 'audit.log', 'a') as f:
            f.write(outcome.line() + '\n')
        if outcome.verdict != PASS:
            path = self.logdir / f'audit-{outcome.request.seq}.txt'
            path.write_text(outcome.line() + '\n\n' + outcome.transcript)
            outcome.transcript_path = path

    # ---- the checks

    def _cpus(self, req: Request) -> List[int]:
        return list(range(self.cpus)) if req.flags & ALL_CPUS else [req.cpu]

    def _tlb(self, laddr: int) -> Dict[str, Optional[int]]:
        entries = parse_tlb(self.cmd(f'tlb {laddr:#x}'))
        if set(entries) != {'ITLB', 'DTLB'}:
            raise ValueError(f'tlb {laddr:#x}: no ITLB and DTLB slots in the output')
        return {name: e.frame_for(laddr) for name, e in entries.items()}

    def _walk(self, laddr: int) -> Optional[int]:
        return parse_page(self.cmd(f'page {laddr:#x}'))

    def _check(self, req: Request) -> None:
        if req.check not in CHECKS:
            raise ValueError(f'unknown check {req.check}')
        for cpu in self._cpus(req):
            self.cmd(f'set $cpu = {cpu}')
            getattr(self, '_check_' + CHECKS[req.check].replace('-', '_'))(req, cpu)

    def _check_maps(self, req: Request, cpu: int) -> None:
        walk = self._walk(req.laddr)
        if walk != req.expect:
            raise Failed(f'the page tables map {_frame(walk)}, not {req.expect:#x}',
                         _none(walk), cpu, req.laddr)
        for name, frame in self._tlb(req.laddr).items():
            if frame is not None and frame != req.expect:
                raise Failed(f'CPU {cpu} {name} still translates {req.laddr:#010x} to frame '
                             f'{frame:#x} (stale: the walk says {req.expect:#x})',
                             frame, cpu, req.laddr)

    def _check_gone(self, req: Request, cpu: int) -> None:
        for name, frame in self._tlb(req.laddr).items():
            if frame == req.expect:
                raise Failed(f'CPU {cpu} {name} still translates {req.laddr:#010x} to the '
                             f'unmapped frame {frame:#x}', frame, cpu, req.laddr)

    def _check_match_walk(self, req: Request, cpu: int) -> None:
        for i in range(req.pages):
            laddr = req.laddr + i * PAGE
            for name, frame in self._tlb(laddr).items():
                if frame is None:
                    continue
                walk = self._walk(laddr)
                if walk != frame:
                    raise Failed(f'CPU {cpu} {name} translates {laddr:#010x} to frame '
                                 f'{frame:#x}, the page tables to {_frame(walk)}',
                                 frame, cpu, laddr)

    def _check_cached(self, req: Request, cpu: int) -> None:
        frame = self._tlb(req.laddr)['DTLB']
        if frame != req.expect:
            raise Failed(f'CPU {cpu} DTLB holds {_frame(frame)} for {req.laddr:#010x}, '
                         f'expected frame {req.expect:#x} to be cached', _none(frame), cpu,
                         req.laddr)

    def _check_absent(self, req: Request, cpu: int) -> None:
        for name, frame in self._tlb(req.laddr).items():
            if frame is not None:
                raise Failed(f'CPU {cpu} {name} still translates {req.laddr:#010x} to frame '
                             f'{frame:#x}', frame, cpu, req.laddr)

    def _pdptes(self, cpu: int, cr3: int) -> Tuple[List[int], List[int]]:
        cached = parse_pdptr(self.cmd(f'show "cpu{cpu}.PDPTR_CACHE"'))
        words = parse_words(self.cmd(f'xp /8wx {cr3 & ~0x1f:#x}'))
        if len(words) != 8:
            raise ValueError(f'xp of the PDPT at {cr3:#x} gave {len(words)} words, not 8')
        memory = [words[2 * i] | words[2 * i + 1] << 32 for i in range(4)]
        return cached, memory

    def _cr3(self, req: Request, cpu: int) -> Tuple[int, bool]:
        cr3, pae = parse_creg(self.cmd('creg'))
        if cr3 & ~0x1f != req.expect & ~0x1f:
            raise Failed(f'CPU {cpu} CR3 is {cr3:#x}, expected {req.expect:#x}', cr3, cpu)
        return cr3, pae

    def _check_cr3(self, req: Request, cpu: int) -> None:
        cr3, pae = self._cr3(req, cpu)
        if not pae:
            return
        cached, memory = self._pdptes(cpu, cr3)
        for i, (c, m) in enumerate(zip(cached, memory)):
            if c != m:
                raise Failed(f'CPU {cpu} PDPTE {i}: the CPU holds {c:#x}, the PDPT in memory '
                             f'{m:#x}', c & 0xffffffff, cpu)

    def _check_pdpt_stale(self, req: Request, cpu: int) -> None:
        cr3, pae = self._cr3(req, cpu)
        if not pae:
            raise Failed(f'CPU {cpu} is not in PAE mode', NONE, cpu)
        cached, memory = self._pdptes(cpu, cr3)
        if cached == memory:
            raise Failed(f'CPU {cpu} PDPTE registers already equal the edited PDPT '
                         f'(no CR3 load happened)', cached[0] & 0xffffffff, cpu)


def _frame(frame: Optional[int]) -> str:
    return 'nothing' if frame is None else f'frame {frame:#x}'


def _none(frame: Optional[int]) -> int:
    return NONE if frame is None else frame
