#!/usr/bin/env python
"""Layout figures of the library, for issue 9's "Measure": lines per module, lines per export cell of every notebook
(average, how many over 30 lines, the largest), public methods without a docs entry, and repeated code in the library.

Runs on any checkout, from anywhere: paths are relative to the repository that holds this file.

- lines per module: every line of each `*.py` file of the library (nbdev's `_modidx.py` and `__init__.py` aside);
- lines per export cell: the source lines of each cell with an `export`/`exports`/`exporti` directive, not counting
  the `#|` directive lines nor blank lines at its end;
- public methods without a docs entry: the public methods and properties that `.ci/check_pages.py` expects an entry
  for, looked up among the `id`s of the built pages in `docs/` (build them first: `python .ci/build_docs.py`);
- repeated code: the first line of `duplicates --repo <lib>` (when the `duplicates` command is on PATH), and the pairs
  that do not involve nbdev's generated `_modidx.py`.

Usage: python bench/layout_stats.py [--json] [--no-duplicates]
"""
import configparser, json, re, shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LONG = 30  # lines: an export cell longer than this needs a reason (HELPERS.md)

def settings() -> configparser.SectionProxy:
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
    return cfg['DEFAULT']

def module_lines(lib:Path) -> dict:
    "`{module file: lines}` for the library's modules."
    return {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in sorted(lib.rglob('*.py'))
            if p.name not in ('_modidx.py', '__init__.py') and '__pycache__' not in p.parts}

_EXPORT = re.compile(r'^#\|\s*export[si]?\b', re.M)

def export_cells(nb:Path) -> list:
    "Line counts of the export cells of notebook `nb`."
    out = []
    for cell in json.loads(nb.read_text()).get('cells', []):
        src = ''.join(cell.get('source', []))
        if cell.get('cell_type') != 'code' or not _EXPORT.search(src): continue
        lines = [l for l in src.splitlines() if not l.lstrip().startswith('#|')]
        while lines and not lines[-1].strip(): lines.pop()
        out.append(len(lines))
    return out

def cell_stats(nbs:Path) -> dict:
    "`{notebook: {cells, lines, average, over_30, largest}}` for every notebook."
    out = {}
    for nb in sorted(nbs.glob('*.ipynb')):
        cells = export_cells(nb)
        out[nb.name] = {'cells': len(cells), 'lines': sum(cells), 'average': round(sum(cells) / len(cells), 1) if cells else 0,
                        f'over_{LONG}': sum(c > LONG for c in cells), 'largest': max(cells, default=0)}
    return out

def undocumented_methods(docs:Path) -> list|None:
    "`page: Class.method` of each public method or property without an entry in the built `docs/` (None if it cannot tell)."
    if not (docs/'index.html').exists(): return None
    sys.path.insert(0, str(ROOT/'.ci')); sys.path.insert(0, str(ROOT))
    try: from check_pages import Api
    except Exception as e: print(f"(cannot read the API: {e})", file=sys.stderr); return None
    api, out = Api(), []
    for page, labels in sorted(api.methods.items()):
        path = docs/page
        ids = set(re.findall(r'\bid="([^"]+)"', path.read_text())) if path.exists() else set()
        out += [f"{page}: {label}" for anchor, label in labels.items() if anchor not in ids]
    return out

def duplicates(lib:Path) -> dict|None:
    "The summary line of `duplicates` on the library, and its pairs that do not involve `_modidx.py`."
    if not shutil.which('duplicates'): return None
    res = subprocess.run(['duplicates', '--repo', str(lib), '--most', '200'], capture_output=True, text=True, cwd=ROOT)
    lines = res.stdout.splitlines()
    rows = [l for l in lines if re.match(r'D\d+ ', l)]
    return {'summary': lines[0] if lines else res.stderr.strip(), 'pairs': len(rows),
            'pairs_without_modidx': [r for r in rows if '_modidx.py' not in r]}

def main(as_json=False, with_duplicates=True):
    cfg = settings()
    lib, nbs = ROOT/cfg.get('lib_path', 'mrl'), ROOT/cfg.get('nbs_path', 'nbs')
    stats = {'modules': module_lines(lib), 'export_cells': cell_stats(nbs), 'undocumented_methods': undocumented_methods(ROOT/'docs')}
    if with_duplicates: stats['duplicates'] = duplicates(lib)
    if as_json: print(json.dumps(stats, indent=1, ensure_ascii=False)); return
    mods = stats['modules']
    print(f"Lines per module ({lib.name}/, without _modidx.py and __init__.py): {sum(mods.values())} in {len(mods)} modules")
    for name, n in mods.items(): print(f"  {name:32s} {n:6d}")
    cells = stats['export_cells']
    print(f"\nLines per export cell (directive lines and trailing blank lines not counted):")
    print(f"  {'notebook':24s} {'cells':>5s} {'lines':>6s} {'average':>7s} {f'>{LONG}':>5s} {'largest':>7s}")
    for nb, s in cells.items(): print(f"  {nb:24s} {s['cells']:5d} {s['lines']:6d} {s['average']:7.1f} {s[f'over_{LONG}']:5d} {s['largest']:7d}")
    n, total = sum(s['cells'] for s in cells.values()), sum(s['lines'] for s in cells.values())
    print(f"  {'all':24s} {n:5d} {total:6d} {total / max(n, 1):7.1f} {sum(s[f'over_{LONG}'] for s in cells.values()):5d} {max((s['largest'] for s in cells.values()), default=0):7d}")
    missing = stats['undocumented_methods']
    if missing is None: print("\nPublic methods without a docs entry: unknown (build the docs first: python .ci/build_docs.py)")
    else:
        print(f"\nPublic methods without a docs entry (in docs/): {len(missing)}")
        for m in missing: print(f"  {m}")
    dup = stats.get('duplicates')
    if with_duplicates:
        if dup is None: print("\nRepeated code: the `duplicates` command is not on PATH")
        else:
            print(f"\nRepeated code (duplicates --repo {lib.name}): {dup['summary']}")
            print(f"  pairs listed: {dup['pairs']}; without nbdev's _modidx.py: {len(dup['pairs_without_modidx'])}")
            for r in dup['pairs_without_modidx']: print(f"  {r}")

if __name__ == '__main__': main(as_json='--json' in sys.argv[1:], with_duplicates='--no-duplicates' not in sys.argv[1:])
