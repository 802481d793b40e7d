#!/usr/bin/env python
"""Layout figures of the library (issues 9 and 17, "Measure"): lines per module; per notebook its cells, API entries,
`@patch` definitions, hidden cells and the lines of its export cells; public methods without a docs entry; repeated
code; and what importing each module loads.

Runs on any checkout, from anywhere: paths are relative to the repository that holds this file.

- lines per module: every line of each `*.py` file of the library (nbdev's `_modidx.py` and `__init__.py` aside);
- per notebook (= per docs page): cells (code and markdown); API entries, the `show_doc` entries its page shows
  (explicit `show_doc(...)` calls in shown cells, plus one for each public definition of an `export`/`exports` cell
  that nbdev documents by itself, as nbdev's `add_show_docs` decides: not hidden, not already shown); `@patch`
  definitions (functions decorated `@patch` or `@patch_to`); hidden cells (`#|hide` or `#| include: false`); and code
  cells under a final "Tests" heading;
- lines per export cell: the source lines of each cell with an `export`/`exports`/`exporti` directive, not counting
  the `#|` directive lines nor blank lines at its end;
- public methods without a docs entry: the public methods and properties that `.ci/check_pages.py` expects an entry
  for, looked up among the `id`s of the built pages in `docs/` (build them first: `python .ci/build_docs.py`);
- repeated code: the first line of `duplicates --repo <lib>` (when the `duplicates` command is on PATH), and the pairs
  that do not involve nbdev's generated `_modidx.py`;
- imports: each module of the library imported alone in a fresh interpreter (`python -c 'import mrl.X'`, this
  checkout first on the path): the library's modules, and how many `rdkit` and `nltk` modules, it loads; and the import
  cycles it runs into: a module that, while it is being imported, leads to a module that imports it back (found by
  watching `import` statements: the chain from the module to the import that comes back to it). Then PASS/FAIL lines
  for the layout's promises: no import cycle; `mrl.squad` loads without `mrl.smiles`; `mrl.decoder` loads neither
  RDKit nor NLTK.

Usage: python bench/layout_stats.py [--json] [--no-duplicates] [--no-imports] [--strict]
       (--strict: exit 1 when a PASS/FAIL line says FAIL)
"""
import ast, configparser, json, os, re, shutil, subprocess, sys
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

_DIRECTIVE = re.compile(r'^\s*#\|\s*(.*?)\s*$')

def directives(src:str) -> dict:
    "`{directive: [args]}` of the `#|` lines at the top of a cell, as nbdev reads them (`#| include: false` -> `{'include:': ['false']}`)."
    out = {}
    for line in src.splitlines():
        if not line.strip(): continue
        m = _DIRECTIVE.match(line)
        if not m: break
        words = m.group(1).split()
        if words: out[words[0]] = words[1:]
    return out

def _parse(src:str):
    "The AST of a code cell, with IPython magics and shell lines blanked out (None when it does not parse)."
    code = '\n'.join('' if l.lstrip().startswith(('%', '!')) else l for l in src.splitlines())
    try: return ast.parse(code)
    except SyntaxError: return None

def _is_patch(dec) -> bool:
    f = dec.func if isinstance(dec, ast.Call) else dec
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ''
    return name in ('patch', 'patch_to', 'patch_property')

def _show_doc_calls(tree) -> list:
    "The first argument of each top-level `show_doc(...)` call, as written."
    out = []
    for node in tree.body if tree else []:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and getattr(node.value.func, 'id', None) == 'show_doc' and node.value.args:
            out.append(ast.unparse(node.value.args[0]))
    return out

def _doc_names(tree) -> list:
    "The names nbdev documents by itself for an export cell: its public top-level definitions (`Class.method` for `@patch`)."
    from nbdev.doclinks import patch_name
    out = []
    for node in tree.body if tree else []:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and (node.name[0] != '_' or node.name[:2] == '__'):
            names = patch_name(node)
            out += names if isinstance(names, list) else [names]
    return out

def notebook_stats(nb:Path) -> dict:
    "Cells, API entries, `@patch` definitions, hidden cells and cells under a final Tests heading of notebook `nb`."
    cells = json.loads(nb.read_text()).get('cells', [])
    code = [c for c in cells if c.get('cell_type') == 'code']
    parsed = [(c, ''.join(c.get('source', [])), directives(''.join(c.get('source', [])))) for c in code]
    hidden = lambda d: 'hide' in d or d.get('include:') == ['false']
    trees = {id(c): _parse(src) for c, src, _ in parsed}
    shown = {n for c, _, _ in parsed for n in _show_doc_calls(trees[id(c)])}  # nbdev skips a name shown anywhere
    explicit = sum(len(_show_doc_calls(trees[id(c)])) for c, _, d in parsed if not hidden(d))
    auto = sum(len([n for n in _doc_names(trees[id(c)]) if n not in shown]) for c, src, d in parsed
               if src.strip() and {'export', 'exports', 'exec_doc'} & set(d) and not hidden(d))
    patches = sum(_is_patch(dec) for c, _, _ in parsed for node in ast.walk(trees[id(c)]) if trees[id(c)] is not None
                  if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) for dec in node.decorator_list)
    tests, under = 0, False
    for c in cells:
        src = ''.join(c.get('source', []))
        if c.get('cell_type') == 'markdown':
            for m in re.finditer(r'^(#+)\s+(.*)$', src, re.M): under = m.group(2).strip().lower().rstrip('.') in ('tests', 'test')
        elif under: tests += 1
    return {'cells': len(cells), 'code_cells': len(code), 'api_entries': explicit + auto, 'show_doc_calls': explicit, 'auto_entries': auto,
            'patch': patches, 'hidden': sum(hidden(d) for _, _, d in parsed), 'under_tests': tests}

# ---------------------------------------------------------------- imports

_PROBE = r"""
import builtins, importlib.util, json, sys
lib, target = sys.argv[1], sys.argv[2]
stack, cycles, real = [], [], builtins.__import__
def ours(name): return name == lib or name.startswith(lib + '.')
def watch(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get('__name__', '')
    try: full = importlib.util.resolve_name('.' * level + name, (globals or {}).get('__package__')) if level else name
    except (ImportError, ValueError): full = name
    wanted = [full] + [f'{full}.{f}' for f in (fromlist or ()) if f != '*']
    for w in wanted:
        if ours(w) and w in stack and w != importer and ours(importer):
            cycle = stack[stack.index(w):] + [w]
            if cycle not in cycles: cycles.append(cycle)
    new = full if ours(full) and full not in sys.modules else None
    if new: stack.append(new)
    try: return real(name, globals, locals, fromlist, level)
    finally:
        if new: stack.pop()
builtins.__import__ = watch
stack.append(target)
importlib.import_module(target)
stack.pop()
builtins.__import__ = real
mods = sorted(sys.modules)
print(json.dumps({'file': sys.modules[target].__file__, 'lib': [m for m in mods if ours(m)],
                  'rdkit': [m for m in mods if m == 'rdkit' or m.startswith('rdkit.')],
                  'nltk': [m for m in mods if m == 'nltk' or m.startswith('nltk.')], 'cycles': cycles}))
"""

def module_names(lib:Path) -> list:
    "`mrl.core`, ... for each module of the library (`_modidx` aside), in file order."
    return [('.'.join(p.relative_to(lib.parent).with_suffix('').parts)) for p in sorted(lib.rglob('*.py'))
            if p.name not in ('_modidx.py', '__init__.py') and '__pycache__' not in p.parts]

def import_check(lib:Path) -> dict:
    "`{module: {lib, rdkit, nltk, cycles}}`: what importing each module alone, in a fresh interpreter, loads."
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(ROOT)] + [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep) if p])}
    out = {}
    for mod in module_names(lib):
        res = subprocess.run([sys.executable, '-c', _PROBE, lib.name, mod], capture_output=True, text=True, cwd=ROOT, env=env)
        if res.returncode:
            out[mod] = {'error': (res.stderr.strip().splitlines() or ['?'])[-1]}; continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        if Path(r['file']).resolve().parent != lib.resolve(): r['error'] = f"imported {r['file']}, not this checkout's"
        out[mod] = r
    return out

def import_promises(imports:dict, lib:str) -> list:
    "`(PASS/FAIL, promise, detail)` for the layout's import promises."
    out = []
    cycles = [c for r in imports.values() for c in r.get('cycles', [])]
    uniq = []
    for c in cycles:
        if c not in uniq: uniq.append(c)
    errors = [f"{m}: {r['error']}" for m, r in imports.items() if 'error' in r]
    out.append(('FAIL' if uniq or errors else 'PASS', 'no import cycle', '; '.join([' -> '.join(c) for c in uniq] + errors) or f'{len(imports)} modules imported alone'))
    def loads(mod, what):
        r = imports.get(f'{lib}.{mod}')
        if r is None or 'error' in r: return None
        return r['rdkit'] if what == 'rdkit' else r['nltk'] if what == 'nltk' else [m for m in r['lib'] if m == what]
    smiles = loads('squad', f'{lib}.smiles')
    out.append(('FAIL' if smiles is None or smiles else 'PASS', f'{lib}.squad loads without {lib}.smiles',
                'not importable' if smiles is None else 'loads it' if smiles else 'it does not'))
    rd, nl = loads('decoder', 'rdkit'), loads('decoder', 'nltk')
    out.append(('FAIL' if rd is None or rd or nl else 'PASS', f'{lib}.decoder loads neither rdkit nor nltk',
                'not importable' if rd is None else f'{len(rd)} rdkit and {len(nl)} nltk modules'))
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

def main(as_json=False, with_duplicates=True, with_imports=True, strict=False):
    cfg = settings()
    lib, nbs = ROOT/cfg.get('lib_path', 'mrl'), ROOT/cfg.get('nbs_path', 'nbs')
    stats = {'modules': module_lines(lib), 'notebooks': {nb.name: notebook_stats(nb) for nb in sorted(nbs.glob('*.ipynb'))},
             'export_cells': cell_stats(nbs), 'undocumented_methods': undocumented_methods(ROOT/'docs')}
    if with_duplicates: stats['duplicates'] = duplicates(lib)
    if with_imports:
        stats['imports'] = import_check(lib)
        stats['promises'] = [{'result': r, 'promise': p, 'detail': d} for r, p, d in import_promises(stats['imports'], lib.name)]
    failed = any(p['result'] == 'FAIL' for p in stats.get('promises', []))
    if as_json:
        print(json.dumps(stats, indent=1, ensure_ascii=False))
        return 1 if strict and failed else 0
    mods = stats['modules']
    print(f"Lines per module ({lib.name}/, without _modidx.py and __init__.py): {sum(mods.values())} in {len(mods)} modules")
    for name, n in mods.items(): print(f"  {name:32s} {n:6d}")
    nbst = stats['notebooks']
    print(f"\nPer notebook (page): cells, API entries (show_doc: explicit + automatic), @patch definitions, hidden cells, code cells under a Tests heading:")
    print(f"  {'notebook':24s} {'cells':>5s} {'code':>5s} {'api':>5s} {'(expl':>6s} {'auto)':>5s} {'@patch':>6s} {'hidden':>6s} {'tests':>5s}")
    for nb, t in nbst.items():
        print(f"  {nb:24s} {t['cells']:5d} {t['code_cells']:5d} {t['api_entries']:5d} {t['show_doc_calls']:6d} {t['auto_entries']:5d} {t['patch']:6d} {t['hidden']:6d} {t['under_tests']:5d}")
    tot = {k: sum(t[k] for t in nbst.values()) for k in ('cells', 'code_cells', 'api_entries', 'show_doc_calls', 'auto_entries', 'patch', 'hidden', 'under_tests')}
    print(f"  {'all':24s} {tot['cells']:5d} {tot['code_cells']:5d} {tot['api_entries']:5d} {tot['show_doc_calls']:6d} {tot['auto_entries']:5d} {tot['patch']:6d} {tot['hidden']:6d} {tot['under_tests']:5d}")
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
    if with_imports:
        print(f"\nImports: each module imported alone in a fresh interpreter ({lib.name} modules it loads; rdkit and nltk modules)")
        for mod, r in stats['imports'].items():
            if 'error' in r: print(f"  {mod:22s} ERROR {r['error']}"); continue
            others = [m[len(lib.name) + 1:] for m in r['lib'] if m not in (lib.name, mod)]
            print(f"  {mod:22s} rdkit {len(r['rdkit']):3d}  nltk {len(r['nltk']):3d}  loads {', '.join(others) or '-'}")
            for c in r['cycles']: print(f"  {'':22s} cycle: {' -> '.join(c)}")
        print()
        for p in stats['promises']: print(f"{p['result']} {p['promise']} ({p['detail']})")
    return 1 if strict and failed else 0

if __name__ == '__main__':
    args = sys.argv[1:]
    sys.exit(main(as_json='--json' in args, with_duplicates='--no-duplicates' not in args, with_imports='--no-imports' not in args, strict='--strict' in args))
