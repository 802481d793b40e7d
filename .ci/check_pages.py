#!/usr/bin/env python
"""Load docs pages in headless Chromium and check what a reader sees: the sidebar with every page, and on each
module's page the documented names that module exports. Prints one `ok`/`FAIL` line per check; exit 1 on failure.

Usage: python .ci/check_pages.py [docs_dir]
"""
import importlib, re, shutil, subprocess, sys, tempfile
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODULES = {'core.html': 'mrl.core', 'chem.html': 'mrl.chem', 'dataloaders.html': 'mrl.dataloaders', 'smiles.html': 'mrl.smiles',
           'squad.html': 'mrl.squad', 'coattention.html': 'mrl.coattention', 'decoder.html': 'mrl.decoder', 'training.html': 'mrl.training'}

def own_names(module):
    "The names of `module.__all__` that `module`'s own source defines (not the ones it re-exports from another module)."
    import ast
    mod = importlib.import_module(module)
    tree = ast.parse(Path(mod.__file__).read_text())
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                defined.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return [n for n in getattr(mod, '__all__', []) if n in defined]

def _chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        if shutil.which(name): return shutil.which(name)
    sys.exit("FAIL: no Chromium found (Debian: apt-get install chromium)")

def rendered_dom(page:Path) -> str:
    "The DOM of `page` after Chromium ran its scripts."
    with tempfile.TemporaryDirectory() as profile:
        cmd = [_chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync',
               f'--user-data-dir={profile}', '--virtual-time-budget=3000', '--dump-dom', page.resolve().as_uri()]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if res.returncode != 0 or '<html' not in res.stdout: raise RuntimeError(f"Chromium could not render {page}: {res.stderr[-2000:]}")
    return res.stdout

class _Sidebar(HTMLParser):
    "Collect the link targets inside `<nav id=quarto-sidebar>`."
    def __init__(self):
        super().__init__(); self.depth, self.links = 0, []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'nav' and a.get('id') == 'quarto-sidebar': self.depth = 1
        elif self.depth and tag == 'nav': self.depth += 1
        if self.depth and tag == 'a' and a.get('href'): self.links.append(a['href'])
    def handle_endtag(self, tag):
        if self.depth and tag == 'nav': self.depth -= 1

def check(docs:Path):
    results = []
    pages = sorted(p.name for p in docs.glob('*.html'))
    def record(ok, what): results.append(ok); print(f"{'ok  ' if ok else 'FAIL'} {what}")
    for page in ['index.html'] + [p for p in MODULES if p in pages]:
        try: dom = rendered_dom(docs/page)
        except Exception as e: record(False, f"{page}: {e}"); continue
        side = _Sidebar(); side.feed(dom)
        linked = {Path(h.split('#')[0]).name for h in side.links}
        missing = [p for p in pages if p not in linked]
        record(not missing, f"{page}: sidebar links every page" + (f" (missing {missing})" if missing else ''))
        if page in MODULES:
            names = own_names(MODULES[page])
            text = re.sub(r'<[^>]+>', '', dom)  # constants show in code cells, functions and classes get a heading
            absent = [n for n in names if not (re.search(rf'id="{re.escape(n.lower())}"', dom) or
                                               (n.isupper() and re.search(rf'\b{re.escape(n)}\b', text)))]
            record(not absent, f"{page}: documents all {len(names)} names of {MODULES[page]}" + (f" (missing {absent})" if absent else ''))
        else:
            record('<h1' in dom and 'mrl' in dom, f"{page}: home page renders its title")
    return results

if __name__ == '__main__':
    docs = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT/'docs'
    if 'core.html' not in {p.name for p in docs.glob('*.html')}: sys.exit(f"FAIL: {docs}/core.html was not built")
    sys.exit(0 if all(check(docs)) else 1)
