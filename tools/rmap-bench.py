#!/usr/bin/python3
"""The reverse-map comparison: `make rmap-bench`.

Builds the default variant and its pgcl1 twin with both reverse maps
(anon_vma, RMAP=pte_chain), boots each under Bochs (clock: sync=none, so the
rdtsc cycle counts repeat exactly) with the `bench` option, takes the
rmap_* benchmark lines (src/selftest/bench_rmap.c) and writes

  build/rmap-bench/rmap.tsv   every rmap_* line, flattened
  build/rmap-bench/rmap.md    the README's tables
  build/rmap-bench/rmap.png   lowmem per mapping against the number of
                              address spaces, and try_to_unmap cycles
                              against mappings and VMAs (gnuplot)

    tools/rmap-bench.py [--emu bochs|qemu] [--variants V,V] [--mem MiB] [--replot]

--replot makes the files again from the last runs' logs (build/logs/rmap-bench-*).

QEMU is faster, but its cycle counts are wall-clock noise; the byte counts
are the same under both.
"""

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / 'ci'))
import harness  # noqa: E402

OUT = harness.BUILD / 'rmap-bench'
SCHEMES = ('anon_vma', 'pte_chain')
DEFAULT_VARIANTS = [harness.DEFAULT_VARIANT, '64g-highpte-up-nopreempt-pgcl1']


def kernel_dir(variant: str, scheme: str) -> str:
    return variant + ('-rmap-pte_chain' if scheme == 'pte_chain' else '')


def build(variant: str, scheme: str) -> None:
    cmd = ['make', '--no-print-directory', '-j2', f'VARIANT={variant}', 'kernel']
    if scheme == 'pte_chain':
        cmd.append('RMAP=pte_chain')
    subprocess.run(cmd, cwd=harness.REPO, check=True, stdout=subprocess.DEVNULL)


def rmap_lines(report, d: str):
    lines = [b for b in report.bench if str(b.get('name', '')).startswith('rmap_')]
    if not lines:
        raise SystemExit(f'rmap-bench: {d} printed no rmap_* benchmark line')
    return lines


def from_log(emu: str, variant: str, scheme: str):
    d = kernel_dir(variant, scheme)
    log = harness.LOGS / f'rmap-bench-{emu}-{d}' / 'e9.log'
    if not log.exists():
        raise SystemExit(f'rmap-bench: {log} is missing: run without --replot first')
    return rmap_lines(harness.parse_report(log.read_text('utf-8', 'replace')), d)


def boot(emu: str, variant: str, scheme: str, mem: int):
    d = kernel_dir(variant, scheme)
    cls = harness.BochsRun if emu == 'bochs' else harness.QemuRun
    run = cls(variant, mem=mem, args='bench tests=framework.glob_match', timeout=3000,
              kernel=harness.BUILD / d / 'kernel.elf', name=f'rmap-bench-{emu}-{d}')
    result = run.run()
    if not result.ok:
        raise SystemExit(f'rmap-bench: {d} under {emu}: {result.verdict()} (logs: {result.logdir})')
    return rmap_lines(result.report, d)


def pgcl(variant: str) -> str:
    return variant.rsplit('-', 1)[1]


def table(rows, cols, head):
    out = ['| ' + ' | '.join(head) + ' |', '|' + ' --- |' * len(head)]
    out += ['| ' + ' | '.join(str(r.get(c, '')) for c in cols) + ' |' for r in rows]
    return out


def write_md(data, variants, emu, mem):
    md = [f'Measured with `make rmap-bench` ({emu}, MEM={mem}; debug builds).', '']
    for v in variants:
        md += [f'**{v}** ({pgcl(v)}): lowmem of the reverse map for N address spaces (a fork '
               'tree) sharing M MiB; bytes per mapping = (rmap objects + anon_vma\'s VMA fields) '
               '/ (clusters x N)', '']
        rows = []
        by = {(s, b['m_mib'], b['tasks']): b for s in SCHEMES for b in data[(v, s)]
              if b['name'] == 'rmap_lowmem' and 'rmap_bytes' in b}
        for (s, m, n), b in sorted(by.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
            if s != 'anon_vma':
                continue
            p = by.get(('pte_chain', m, n))
            if not p:
                continue
            a_total = b['rmap_bytes'] + b['rmap_vma_field_bytes']
            p_total = p['rmap_bytes'] + p['rmap_vma_field_bytes']
            ratio = f'{a_total / p_total:.5f}' if p_total else '-'
            rows.append({'m': m, 'n': n, 'maps': b['mappings'], 'a': a_total,
                         'ap': f"{a_total / b['mappings']:.4f}", 'av': f"{a_total / b['vmas']:.1f}",
                         'p': p_total, 'pp': f"{p_total / p['mappings']:.2f}",
                         'pv': f"{p_total / p['vmas']:.0f}", 'r': ratio,
                         'fa': b['fork_cycles_per_task'], 'fp': p['fork_cycles_per_task']})
        md += table(rows, ['m', 'n', 'maps', 'a', 'ap', 'av', 'p', 'pp', 'pv', 'r', 'fa', 'fp'],
                    ['M MiB', 'N', 'mappings', 'anon_vma bytes', 'per mapping', 'per VMA',
                     'pte_chain bytes', 'per mapping', 'per VMA', 'anon_vma / pte_chain',
                     'fork cycles anon_vma', 'fork cycles pte_chain'])
        md.append('')
        exits = {(s, b['m_mib']): b for s in SCHEMES for b in data[(v, s)]
                 if b['name'] == 'rmap_lowmem' and 'exit_cycles_per_task' in b}
        rows = [{'m': m, 'n': exits[('anon_vma', m)]['tasks'],
                 'a': exits[('anon_vma', m)]['exit_cycles_per_task'],
                 'p': exits[('pte_chain', m)]['exit_cycles_per_task']}
                for (s, m) in sorted(exits) if s == 'anon_vma' and ('pte_chain', m) in exits]
        md += table(rows, ['m', 'n', 'a', 'p'], ['M MiB', 'N', 'exit (mmput) cycles per address '
                                                  'space, anon_vma', 'pte_chain'])
        md.append('')
        for name, key, label in (('rmap_unmap_maps', 'mappings', 'mappings (address spaces)'),
                                 ('rmap_unmap_vmas', 'vmas', 'VMAs on the anon_vma (one address space)')):
            rows = []
            per = {s: {b[key]: b for b in data[(v, s)] if b['name'] == name} for s in SCHEMES}
            for k in sorted(per['anon_vma']):
                a, p = per['anon_vma'][k], per['pte_chain'].get(k)
                if p:
                    rows.append({'k': k, 'a': a['cycles_per_try_to_unmap'], 'aw': a['walk_steps'],
                                 'p': p['cycles_per_try_to_unmap'], 'pw': p['walk_steps']})
            md += table(rows, ['k', 'a', 'aw', 'p', 'pw'],
                        [label, 'try_to_unmap cycles, anon_vma', 'VMAs walked',
                         'pte_chain', 'chain entries walked'])
            md.append('')
    return md


def plot(data, variants):
    tsv = {}
    for v in variants:
        for s in SCHEMES:
            tag = f'{pgcl(v)}-{s}'
            low = sorted((b['tasks'], (b['rmap_bytes'] + b['rmap_vma_field_bytes']) / b['mappings'])
                         for b in data[(v, s)] if b['name'] == 'rmap_lowmem'
                         and b.get('m_mib') == 256 and 'rmap_bytes' in b)
            maps = sorted((b['mappings'], b['cycles_per_try_to_unmap'])
                          for b in data[(v, s)] if b['name'] == 'rmap_unmap_maps')
            vmas = sorted((b['vmas'], b['cycles_per_try_to_unmap'])
                          for b in data[(v, s)] if b['name'] == 'rmap_unmap_vmas')
            for what, pts in (('low', low), ('maps', maps), ('vmas', vmas)):
                f = OUT / f'plot-{what}-{tag}.dat'
                # a log scale cannot show 0 (pte_chain's direct entries at N=1): left out
                f.write_text(''.join(f'{x} {y}\n' for x, y in pts if y > 0))
                tsv[(what, tag)] = f
    gp = ['set terminal pngcairo size 1200,420 noenhanced font "sans,10"',
          f'set output "{OUT}/rmap.png"', 'set multiplot layout 1,3',
          'set logscale xy 2', 'set key center right', 'set grid']
    panels = (('low', 'address spaces sharing 256 MiB (pte_chain: 0 at 1)',
               'rmap lowmem bytes per mapping'),
              ('maps', 'mappings of the cluster', 'try_to_unmap cycles'),
              ('vmas', 'VMAs on its anon_vma (one address space)', 'try_to_unmap cycles'))
    for what, xl, yl in panels:
        gp += [f'set xlabel "{xl}"', f'set ylabel "{yl}"']
        clauses = []
        for v in variants:
            for s in SCHEMES:
                title = s + ' ' + pgcl(v)
                clauses.append(f'"{tsv[(what, pgcl(v) + "-" + s)]}" using 1:2 with linespoints '
                               f'title "{title}"')
        gp.append('plot ' + ', '.join(clauses))
    gp.append('unset multiplot')
    (OUT / 'rmap.gp').write_text('\n'.join(gp) + '\n')
    r = subprocess.run(['gnuplot', str(OUT / 'rmap.gp')], capture_output=True, text=True)
    return None if r.returncode == 0 else r.stderr.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description='anon_vma against pte_chain')
    ap.add_argument('--emu', choices=('bochs', 'qemu'), default='bochs')
    ap.add_argument('--variants', default=','.join(DEFAULT_VARIANTS))
    ap.add_argument('--mem', type=int, default=1024)
    ap.add_argument('--replot', action='store_true', help="from the last runs' logs")
    opts = ap.parse_args()
    variants = [v for v in opts.variants.split(',') if v]
    OUT.mkdir(parents=True, exist_ok=True)
    data = {}
    for v in variants:
        for s in SCHEMES:
            if opts.replot:
                data[(v, s)] = from_log(opts.emu, v, s)
                continue
            build(v, s)
            print(f'rmap-bench: {kernel_dir(v, s)} under {opts.emu}', flush=True)
            data[(v, s)] = boot(opts.emu, v, s, opts.mem)
    keys = sorted({k for lines in data.values() for b in lines for k in b})
    with open(OUT / 'rmap.tsv', 'w') as f:
        f.write('\t'.join(keys) + '\n')
        for lines in data.values():
            for b in lines:
                f.write('\t'.join(str(b.get(k, '')) for k in keys) + '\n')
    md = write_md(data, variants, opts.emu, opts.mem)
    (OUT / 'rmap.md').write_text('\n'.join(md) + '\n')
    err = plot(data, variants)
    print(f'rmap-bench: wrote {OUT}/rmap.tsv, {OUT}/rmap.md'
          + (f', {OUT}/rmap.png' if err is None else f'; no plot: {err}'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
