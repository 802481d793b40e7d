#!/usr/bin/env python
"""Load every docs page in headless Chromium and check what a reader sees. Prints one `ok`/`FAIL` line per check, with
each problem under it as `page: name`; exits 1 on any failure.

Checks, on every page unless said otherwise:
- titles: every page shows its title;
- sidebar: the home page first, then the sections of `.ci/build_docs.py`'s `SECTIONS` with their pages, every page once;
  previous/next links at the bottom that follow the sidebar;
- api names: each module's page documents the names of its `__all__` that the module defines;
- api methods: every public method and property of those classes (inherited ones from this library included, dunder
  and `_private` ones not) has an entry, on the page of the module that defines it;
- reading order: a base class's entry before its subclasses', a class's entry before its methods', `save` before
  `load`, `to_json` before `from_json`, `to_dict` before `from_dict`;
- cut code: no line of code runs past the right edge of its box (at 1280 px) unless the box scrolls sideways, and no
  line of Python source (code cells, show_doc signatures: they wrap) does;
- wrapped outputs: what code printed, and every other text block (shell sessions, diagrams), keeps its lines as
  printed: it fails where the computed style lets a line wrap (`white-space` other than `pre`/`nowrap`), or where the
  words of one line of the text sit on two rendered lines (measured word by word). A probe on index.html checks
  both ways: a printed table wider than the page, as a cell's output, must scroll unwrapped, and the same table made
  to wrap (`white-space: pre-wrap`) must be caught;
- usage lines: every `usage: PROG` printed on a page (or in README.md) names a command of settings.ini's
  `console_scripts` (or an example command a notebook defines with `@cli_command`), not the script that ran the
  notebook (`usage: run_nbs.py`);
- links: every link to a local file exists, every `#anchor` exists on its page, nothing links to a repository or site
  that does not exist; no resource fails to load and no script error;
- build paths: no `/work/`, `/tmp/`, `/root/` or `site-packages` in the pages' text or links (nor in README.md);
- maths: KaTeX loads offline; `$A^D = \\mathrm{softmax}(L^\\top)$`, rendered by smalldocs and put on a page, typesets;
  every maths span of every page typesets without error;
- search: in `index.html` opened from disk (file://), typing a query lists results that link to pages.

It also prints (not a check) how many entries each page's "On this page" lists.

Usage: python .ci/check_pages.py [docs_dir]
"""
import configparser, functools, importlib, inspect, json, os, re, select, shutil, subprocess, sys, tempfile, time
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_docs import sidebar_layout, DEFAULT_SECTION, SECTIONS  # the sidebar the build writes

WIDTH, HEIGHT = 1280, 900
DEAD_URLS = ('github.com/mrl/mrl', 'mrl.github.io')  # the placeholders nbdev wrote in settings.ini: neither exists
BUILD_PATHS = re.compile(r'/work/|/tmp/|/root/|site-packages')
SEARCH_QUERY = 'vocab'
MATH_SAMPLE = r'$A^D = \mathrm{softmax}(L^\top)$'
ORDER_PAIRS = (('save', 'load'), ('to_json', 'from_json'), ('to_dict', 'from_dict'))  # (first, then)

# ---------------------------------------------------------------- the library: what should be documented where

def _lib_name() -> str:
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
    return cfg['DEFAULT'].get('lib_path', cfg['DEFAULT'].get('lib_name', 'mrl'))

def module_pages() -> dict:
    "`{module: page}` from nbdev's index `_modidx.py` (which the docs build refreshes)."
    idx = importlib.import_module(f'{_lib_name()}._modidx').d['syms']
    return {mod: next(iter(syms.values()))[0].split('#')[0] for mod, syms in idx.items() if syms}

def own_names(module) -> list:
    "The names of `module.__all__` that `module`'s own source defines (not the ones it re-exports from another module)."
    import ast
    mod = importlib.import_module(module) if isinstance(module, str) else module
    tree = ast.parse(Path(mod.__file__).read_text())
    defined = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): defined.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]):
                defined.update(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
    return [n for n in getattr(mod, '__all__', []) if n in defined]

def _routine(owner, name):
    "The function behind attribute `name` of class `owner` when it is a method or property, else None."
    attr = vars(owner)[name]
    if isinstance(attr, property): return attr.fget
    if isinstance(attr, functools.cached_property): return attr.func
    if isinstance(attr, type): return None
    try: bound = getattr(owner, name)  # through the descriptor: classmethods, fastcore's `@patch(cls_method=True)`, ...
    except AttributeError: return None
    if inspect.ismethod(bound): return bound.__func__
    return bound if inspect.isfunction(bound) else None

def public_methods(cls, lib:str):
    "`(owner, name, function)` of each public method or property of `cls` that this library defines (on `cls` or a base)."
    for name in sorted(dir(cls)):
        if name.startswith('_'): continue
        owner = next((k for k in cls.__mro__ if name in vars(k)), None)
        if owner is None or not owner.__module__.startswith(lib + '.'): continue
        fn = _routine(owner, name)
        if fn is not None: yield owner, name, fn

def _console_scripts() -> list:
    "The command names of settings.ini's `console_scripts` (`mrl_demo=mrl.training:mrl_demo ...`)."
    cfg = configparser.ConfigParser(); cfg.read(ROOT/'settings.ini')
    return [e.split('=')[0].strip() for e in cfg['DEFAULT'].get('console_scripts', '').split()]

def _notebook_commands() -> list:
    "Names of the example commands the notebooks define with `@cli_command` (e.g. `mrl_halve` in `00_core`): their usage line names them too."
    return sorted({m for nb in (ROOT/'nbs').glob('*.ipynb') for m in re.findall(r'@cli_command\\n",\s*"def (\w+)\(', nb.read_text())} - set(_console_scripts()))

def readme_text() -> str: return (ROOT/'README.md').read_text() if (ROOT/'README.md').exists() else ''

class Api:
    "The public API of the library: names, classes and methods, and the page and anchor where each should be documented."
    def __init__(self):
        self.lib = _lib_name()
        self.pages = module_pages()
        self.names, self.methods, self.classes = {}, {}, {}  # page -> [name]; page -> {anchor: label}; anchor -> class
        for mod, page in self.pages.items():
            m = importlib.import_module(mod)
            names = own_names(m)
            self.names.setdefault(page, []).extend(names)
            for n in names:
                cls = getattr(m, n)
                if not inspect.isclass(cls) or cls.__name__ != n: continue   # an alias (MRL's `Text_Dataset`): its class is checked under its own name
                self.classes[n.lower()] = cls
                for owner, meth, fn in public_methods(cls, self.lib):
                    label = f'{owner.__name__}.{meth}' if not owner.__name__.startswith('_') else f'{cls.__name__}.{meth}'
                    where = self.pages.get(getattr(fn, '__module__', None)) or self.pages.get(owner.__module__) or page
                    kind = ' (property)' if isinstance(vars(owner)[meth], (property, functools.cached_property)) else ''
                    self.methods.setdefault(where, {})[label.lower()] = label + kind

# ---------------------------------------------------------------- Chromium, driven over the DevTools protocol on a pipe

def _chromium() -> str:
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        if shutil.which(name): return shutil.which(name)
    sys.exit("FAIL: no Chromium found (Debian: apt-get install chromium)")

class Chromium:
    "A headless Chromium driven over `--remote-debugging-pipe` (no extra package): open a page, run JavaScript, read errors."
    def __init__(self, timeout=60):
        self.timeout, self.profile = timeout, tempfile.mkdtemp(prefix='mrl-check-pages-')
        to_chrome, from_chrome = os.pipe(), os.pipe()
        def fds():  # Chromium reads commands on fd 3 and writes replies on fd 4
            os.dup2(to_chrome[0], 3); os.dup2(from_chrome[1], 4)
        cmd = [_chromium(), '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
               '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-extensions',
               '--mute-audio', f'--user-data-dir={self.profile}', '--remote-debugging-pipe', f'--window-size={WIDTH},{HEIGHT}', 'about:blank']
        self.proc = subprocess.Popen(cmd, pass_fds=(3, 4), preexec_fn=fds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome[0]); os.close(from_chrome[1])
        self.w, self.r = to_chrome[1], from_chrome[0]
        self.buf, self.n, self.events = b'', 0, []
        target = self.send('Target.createTarget', {'url': 'about:blank'})['targetId']
        self.session = self.send('Target.attachToTarget', {'targetId': target, 'flatten': True})['sessionId']
        for domain in ('Page', 'Runtime', 'Log'): self.send(f'{domain}.enable', session=True)
        self.send('Emulation.setDeviceMetricsOverride', {'width': WIDTH, 'height': HEIGHT, 'deviceScaleFactor': 1, 'mobile': False}, session=True)

    def _read(self, deadline):
        while b'\0' not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.r], [], [], left)[0]: raise TimeoutError('Chromium did not answer in time')
            chunk = os.read(self.r, 1 << 20)
            if not chunk: raise RuntimeError('Chromium closed the pipe')
            self.buf += chunk
        msg, self.buf = self.buf.split(b'\0', 1)
        return json.loads(msg)

    def send(self, method, params=None, session=False):
        self.n += 1
        msg = {'id': self.n, 'method': method, 'params': params or {}, **({'sessionId': self.session} if session else {})}
        os.write(self.w, json.dumps(msg).encode() + b'\0')
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read(deadline)
            if reply.get('id') == self.n:
                if 'error' in reply: raise RuntimeError(f"{method}: {reply['error'].get('message')}")
                return reply.get('result', {})
            self.events.append(reply)

    def open(self, url:str):
        "Load `url` and wait for its load event; return the page's errors (script exceptions, resources that failed)."
        self.events.clear()
        self.send('Page.navigate', {'url': url}, session=True)
        deadline = time.monotonic() + self.timeout
        while not any(e.get('method') == 'Page.loadEventFired' for e in self.events): self.events.append(self._read(deadline))
        return self.errors()

    def errors(self) -> list:
        out = []
        for e in self.events:
            if e.get('method') == 'Runtime.exceptionThrown':
                d = e['params']['exceptionDetails']; out.append(f"script error: {d.get('exception', {}).get('description') or d.get('text')}".splitlines()[0])
            elif e.get('method') == 'Log.entryAdded' and e['params']['entry'].get('level') == 'error':
                entry = e['params']['entry']; out.append(f"{entry.get('text')} {entry.get('url', '')}".strip())
        self.events = [e for e in self.events if e.get('method') not in ('Runtime.exceptionThrown', 'Log.entryAdded')]
        return out

    def js(self, expression:str):
        "The value of a JavaScript expression (awaited if it is a promise)."
        res = self.send('Runtime.evaluate', {'expression': expression, 'awaitPromise': True, 'returnByValue': True}, session=True)
        if 'exceptionDetails' in res: raise RuntimeError(f"JavaScript failed: {res['exceptionDetails'].get('exception', {}).get('description') or res['exceptionDetails']}")
        return res['result'].get('value')

    def close(self):
        try: self.send('Browser.close')
        except Exception: pass
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
        for fd in (self.w, self.r): os.close(fd)
        shutil.rmtree(self.profile, ignore_errors=True)

# How a <pre> renders, line by line: the same function measures the pages and the probe (WRAP_PROBE). A <pre> is `source`
# (Python: code cells, show_doc signatures), which may wrap, or `text` (what code printed, shell sessions, any other
# block), which must keep each line on one rendered line and scroll sideways when it is wider than its box.
MEASURE_PRE = r'''
const measurePre = (pre) => {
  const source = pre.classList.contains('sourceCode') && pre.classList.contains('python');
  const code = pre.querySelector(':scope > code') || pre;
  const cs = getComputedStyle(code), boxStyle = getComputedStyle(pre);
  // wraps: the style lets a long line break (white-space pre-wrap/pre-line/normal/break-spaces, or text-wrap-mode: wrap)
  const wrapMode = cs.textWrapMode || (['pre', 'nowrap'].includes(cs.whiteSpace) ? 'nowrap' : 'wrap');
  const scrolls = ['auto', 'scroll'].includes(boxStyle.overflowX);
  const box = pre.getBoundingClientRect(), right = box.left + pre.clientLeft + pre.clientWidth + 0.5;
  const tolerance = 0.5 * parseFloat(cs.fontSize);
  const out = {source, wraps: wrapMode !== 'nowrap', whiteSpace: cs.whiteSpace, scrolls, lines: 0, past: [], split: []};
  let line = '', over = false, top = null, bottom = null;
  const done = () => {
    out.lines++;
    if (over) out.past.push(line.trim().slice(0, 100));
    if (top !== null && bottom - top > tolerance) out.split.push(line.trim().slice(0, 100));
    line = ''; over = false; top = null; bottom = null;
  };
  const walker = document.createTreeWalker(pre, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parts = node.data.split('\n');
    let at = 0;
    parts.forEach((part, i) => {
      // measure each word: spaces where a wrapped line breaks, or at its end, may hang past the edge unseen; a line
      // whose words sit on different rendered lines was split (wrapped) by the browser
      for (const m of part.matchAll(/\S+/g)) {
        const r = document.createRange(); r.setStart(node, at + m.index); r.setEnd(node, at + m.index + m[0].length);
        for (const rect of r.getClientRects()) {
          if (!rect.width) continue;
          if (rect.right > right) over = true;
          top = top === null ? rect.top : Math.min(top, rect.top); bottom = bottom === null ? rect.top : Math.max(bottom, rect.top);
        }
      }
      line += part;
      at += part.length + 1;
      if (i < parts.length - 1) done();
    });
  }
  if (line.trim()) done();
  return out;
};
'''

# What the checks read from a loaded page
COLLECT = r'''(async () => {
  await document.fonts.ready;
  const main = document.querySelector('main') || document.body;
  /*MEASURE_PRE*/
  // every code line: cut when its text runs past the right edge of a box that does not scroll (or of Python source,
  // which wraps); an output or other text block must not wrap: each of its lines on one rendered line
  let lines = 0, scrolled = 0; const cut = [], wrapped = [], pres = [];
  for (const pre of main.querySelectorAll('pre')) {
    if (pre.closest('.code-with-filename-file') || pre.classList.contains('mermaid')) continue;
    const m = measurePre(pre);
    lines += m.lines;
    if (m.source || !m.scrolls) cut.push(...m.past); else scrolled += m.past.length;
    if (!m.source) {
      const where = (pre.closest('.cell-output') ? 'output' : 'block') + ' ' + JSON.stringify(pre.textContent.trim().split('\n')[0].slice(0, 60));
      if (m.wraps) wrapped.push(`${where} wraps (white-space: ${m.whiteSpace})`);
      if (m.split.length) wrapped.push(`${where}: ${m.split.length} line(s) split over rendered lines, e.g. ${JSON.stringify(m.split[0])}`);
    }
    pres.push(pre.textContent);
  }
  const sidebar = [];
  const nav = document.getElementById('quarto-sidebar');
  if (nav) for (const li of nav.querySelectorAll(':scope ul.sidebar-menu > li, :scope .sidebar-menu-container > ul > li')) {
    if (li.classList.contains('sidebar-item-section')) {
      const head = li.querySelector('.sidebar-item-container .menu-text');
      sidebar.push([head ? head.textContent.trim() : '', [...li.querySelectorAll(':scope > ul a.sidebar-link[href]')].map(a => a.getAttribute('href'))]);
    } else {
      const a = li.querySelector('a.sidebar-link'); if (a) sidebar.push([null, [a.getAttribute('href')]]);
    }
  }
  const pn = (side) => { const a = document.querySelector(`nav.page-navigation .nav-page-${side} a`); return a ? a.getAttribute('href') : null; };
  const links = [];
  for (const el of document.querySelectorAll('a[href], link[href], script[src], img[src], iframe[src], source[src]')) {
    const raw = el.getAttribute(el.hasAttribute('href') ? 'href' : 'src');
    links.push([raw, el.href || el.src, (el.textContent || '').trim().slice(0, 40)]);
  }
  const maths = [...main.querySelectorAll('span.math')];
  return {
    ids: [...document.querySelectorAll('[id]')].map(e => e.id),
    entries: [...main.querySelectorAll('h2[id], h3[id], h4[id], h5[id]')].map(e => e.id),
    lines, cut, scrolled, wrapped, pres, sidebar, prev: pn('previous'), next: pn('next'), links,
    toc: document.querySelectorAll('#TOC a.nav-link').length,
    title: ((main.querySelector('h1') || {}).textContent || '').trim(),
    text: document.body.textContent,
    katex: !!(window.katex && window.renderMathInElement),
    maths: maths.length, maths_ok: maths.filter(m => m.querySelector('.katex') && !m.querySelector('.katex-error')).length,
  };
})()'''

COLLECT = COLLECT.replace('/*MEASURE_PRE*/', MEASURE_PRE)

MATH_PROBE = r'''(async () => {
  const div = document.createElement('div'); div.id = 'mrl-math-probe'; div.innerHTML = %s;
  (document.querySelector('main') || document.body).appendChild(div);
  window.smalldocsMath();
  await document.fonts.ready;
  const k = div.querySelector('.katex');
  const r = {katex: !!k, mathml: !!div.querySelector('.katex-mathml math'), error: !!div.querySelector('.katex-error'),
             font: document.fonts.check('16px KaTeX_Main') && [...document.fonts].some(f => f.family.includes('KaTeX') && f.status === 'loaded'),
             text: k ? k.querySelector('annotation').textContent : ''};
  div.remove(); return r;
})()'''

# A printed table wider than the page, put on a page as a cell's output: the site's CSS must keep its lines whole (and
# scroll), and the same table made to wrap (`white-space: pre-wrap`, as `code-overflow: wrap` used to do) must be caught
WRAP_PROBE = r'''(async () => {
  /*MEASURE_PRE*/
  const row = (cells) => cells.map((c, i) => String(c).padEnd(i ? 14 : 30)).join(' ');
  const table = [row(['question', 'answer', 'F1', 'EM', 'start', 'end', 'iterations', 'seconds', 'article', 'id'])]
    .concat([1, 2, 3].map(k => row([`what does row ${k} say?`, `answer ${k}`, 0.5 * k, k % 2, 10 * k, 10 * k + 3, 4, 0.01 * k, `article ${k}`, `id-${k}`])))
    .join('\n');
  const div = document.createElement('div'); div.id = 'mrl-wrap-probe'; div.className = 'cell';
  div.innerHTML = '<div class="cell-output cell-output-stdout"><pre><code></code></pre></div>';
  div.querySelector('code').textContent = table;
  (document.querySelector('main') || document.body).appendChild(div);
  const pre = div.querySelector('pre');
  const as_built = measurePre(pre);
  div.querySelector('code').style.whiteSpace = 'pre-wrap';
  const forced = measurePre(pre);
  div.remove();
  return {width: table.split('\n')[0].length, as_built, forced};
})()'''.replace('/*MEASURE_PRE*/', MEASURE_PRE)

SEARCH_PROBE = r'''(async () => {
  const input = document.querySelector('.smalldocs-search input');
  if (!input) return {error: 'no search box'};
  input.focus(); input.value = %s; input.dispatchEvent(new Event('input', {bubbles: true}));
  for (let i = 0; i < 40; i++) {
    await new Promise(r => setTimeout(r, 100));
    const hits = [...document.querySelectorAll('.smalldocs-search-results .search-result')];
    if (hits.length) return {hits: hits.map(a => a.getAttribute('href'))};
    if (document.querySelector('.smalldocs-search-results .search-none')) return {hits: [], none: true};
  }
  return {hits: []};
})()'''

# ---------------------------------------------------------------- the checks

class Report:
    def __init__(self): self.failed = []
    def check(self, name:str, problems:list, detail:str=''):
        "Print `ok`/`FAIL` for a check and each of its problems."
        print(f"{'ok  ' if not problems else 'FAIL'} {name}{f' ({detail})' if detail else ''}" + (f': {len(problems)} problem(s)' if problems else ''))
        for p in problems: print(f"       {p}")
        if problems: self.failed.append(name)

def _local_target(url:str, docs:Path):
    "The file a file:// URL points at, and its fragment."
    parts = urlsplit(url)
    return Path(unquote(parts.path)), unquote(parts.fragment)

def check(docs:Path) -> bool:
    docs = docs.resolve()
    pages = sorted(p.name for p in docs.glob('*.html'))
    api = Api()
    rep = Report()
    try: browser = Chromium()
    except (OSError, RuntimeError, TimeoutError) as e:
        rep.check('Chromium starts', [f"{_chromium()}: {e}"]); return False
    seen = {}
    try:
        for page in pages:
            errors = browser.open((docs/page).as_uri())
            seen[page] = browser.js(COLLECT)
            seen[page]['errors'] = errors + browser.errors()
        probe_errors = []
        browser.open((docs/'index.html').as_uri())
        from smalldocs.markdown import render
        math = browser.js(MATH_PROBE % json.dumps(render(MATH_SAMPLE, {})))
        wrap_probe = browser.js(WRAP_PROBE)
        search = browser.js(SEARCH_PROBE % json.dumps(SEARCH_QUERY))
        probe_errors = browser.errors()
    finally:
        browser.close()

    rep.check('titles: every page shows its title', [f"{page}: no title (h1)" for page, s in seen.items() if not s['title']],
              f"home: {seen.get('index.html', {}).get('title')!r}")

    # sidebar and previous/next
    stems = [p[:-5] for p in pages]
    expected = sidebar_layout(stems)
    order = [f'{n}.html' for _, names in expected for n in names]
    problems, wrong = [], {}
    want = [(sec, [f'{n}.html' for n in names]) for sec, names in expected]
    for page, s in seen.items():
        got = [(sec, [Path(h.split('#')[0]).name for h in hrefs]) for sec, hrefs in s['sidebar']]
        if [(sec, sorted(n) if sec == DEFAULT_SECTION else n) for sec, n in got] != [(sec, sorted(n) if sec == DEFAULT_SECTION else n) for sec, n in want]:
            wrong.setdefault(repr(got), []).append(page)
    problems += [f"{', '.join(ps)}: sidebar is {got}, expected {want}" for got, ps in wrong.items()]
    for page, s in seen.items():
        i = order.index(page) if page in order else None
        for side, j in (('prev', -1), ('next', 1)):
            want_link = order[i + j] if i is not None and 0 <= i + j < len(order) else None
            got_link = Path(s[side].split('#')[0]).name if s[side] else None
            if got_link != want_link: problems.append(f"{page}: {side} link is {got_link}, expected {want_link}")
    rep.check('sidebar sections and previous/next links', problems, f"{', '.join(sec or 'home' for sec, _ in expected)}")

    # API names and methods
    problems, methods_missing, n_names, n_methods = [], [], 0, 0
    for page, names in api.names.items():
        ids = set(seen.get(page, {}).get('ids', []))
        text = re.sub(r'\s+', ' ', seen.get(page, {}).get('text', ''))
        if page not in seen: problems.append(f"{page}: page not built"); continue
        n_names += len(names)
        problems += [f"{page}: {n}" for n in names if not (n.lower() in ids or (n.isupper() and re.search(rf'\b{re.escape(n)}\b', text)))]
    rep.check('api names: every name of each module\'s __all__ is documented', problems, f'{n_names} names')
    for page, labels in sorted(api.methods.items()):
        ids = set(seen.get(page, {}).get('ids', []))
        n_methods += len(labels)
        methods_missing += [f"{page}: {label}" for anchor, label in labels.items() if anchor not in ids]
    rep.check('api methods: every public method and property has an entry (show_doc)', methods_missing, f'{n_methods} methods')

    # reading order
    problems = []
    for page, s in seen.items():
        pos = {}
        for k, e in enumerate(s['entries']): pos.setdefault(e, k)
        classes = {a: c for a, c in api.classes.items() if a in pos}
        for a, ca in classes.items():
            for b, cb in classes.items():
                if ca is not cb and ca in cb.__mro__[1:] and pos[a] > pos[b]: problems.append(f"{page}: {cb.__name__} comes before its base class {ca.__name__}")
        for e in pos:
            if '.' in e and e.split('.')[0] in classes and pos[e] < pos[e.split('.')[0]]: problems.append(f"{page}: {e} comes before its class's entry")
            for first, then in ORDER_PAIRS:
                other = re.sub(rf'(^|[._]){then}($|[._])', rf'\g<1>{first}\g<2>', e)
                if other != e and other in pos and pos[other] > pos[e]: problems.append(f"{page}: {e} comes before {other}")
    rep.check('reading order: base class before subclass, class before its methods, save before load, to_json before from_json', problems)

    # code cut at the right edge; outputs that wrap
    problems = [f"{page}: {len(s['cut'])} of {s['lines']} code lines cut, e.g. {s['cut'][0]!r}" for page, s in seen.items() if s['cut']]
    total = sum(s['lines'] for s in seen.values())
    rep.check(f'cut code: no code line runs past a box that does not scroll at {WIDTH} px (Python source wraps)', problems,
              f"{total} code lines, {sum(len(s['cut']) for s in seen.values())} cut, {sum(s['scrolled'] for s in seen.values())} wider than the page that scroll")
    problems = [f"{page}: {w}" for page, s in seen.items() for w in s['wrapped']]
    built, forced = wrap_probe['as_built'], wrap_probe['forced']
    if built['wraps'] or built['split'] or not built['scrolls'] or not built['past']:
        problems.append(f"index.html: a {wrap_probe['width']}-character printed table, as a cell's output, does not keep its lines and scroll: {built}")
    if not (forced['wraps'] and forced['split']):
        problems.append(f"index.html: the same table made to wrap (white-space: pre-wrap) is not caught: {forced}")
    rep.check('wrapped outputs: what code printed (and other text blocks) keeps each line on one rendered line and scrolls', problems,
              f"probe: a {wrap_probe['width']}-character table scrolls as built, and wraps into {len(forced['split'])} split lines when made to wrap")

    # usage lines of commands: the command's own name (a console script), not the script that ran the notebook
    commands = _console_scripts() + _notebook_commands()
    usage = re.compile(r'^\s*usage:\s+(\S+)', re.M)
    problems = [f"{page}: 'usage: {m.group(1)}' names {m.group(1)}, not a command ({', '.join(commands)})"
                for page, s in seen.items() for text in s['pres'] for m in usage.finditer(text) if m.group(1) not in commands]
    problems += [f"README.md: 'usage: {m.group(1)}' names {m.group(1)}, not a command ({', '.join(commands)})" for m in usage.finditer(readme_text()) if m.group(1) not in commands]
    n_usage = sum(len(usage.findall(text)) for s in seen.values() for text in s['pres'])
    rep.check("usage lines: every printed 'usage:' names the command (a console script of settings.ini)", problems, f"{n_usage} usage lines")

    # "On this page": how many entries each page's table of contents lists (reported, not checked)
    print(f"info \"On this page\" entries: " + ', '.join(f"{page[:-5]} {s['toc']}" for page, s in sorted(seen.items(), key=lambda kv: -kv[1]['toc'])))

    # links
    problems, ids_of = [], {docs/p: set(s['ids']) for p, s in seen.items()}
    for page, s in seen.items():
        for raw, url, text in s['links']:
            if any(d in (raw or '') for d in DEAD_URLS): problems.append(f"{page}: link to a repository or site that does not exist: {raw}"); continue
            if not url.startswith('file:'): continue
            target, frag = _local_target(url, docs)
            if not target.exists(): problems.append(f"{page}: broken link {raw!r} ({text!r}): no file {os.path.relpath(target, docs)}"); continue
            if frag and target.suffix == '.html' and target in ids_of and frag not in ids_of[target]:
                problems.append(f"{page}: broken link {raw!r} ({text!r}): no #{frag} in {target.name}")
        problems += [f"{page}: {e}" for e in s['errors']]
    readme = readme_text()
    for m in re.finditer(r'\]\(([^)\s]+)\)', readme):
        href = m.group(1)
        if any(d in href for d in DEAD_URLS): problems.append(f"README.md: link to a repository or site that does not exist: {href}")
        elif not re.match(r'[a-z]+:', href) and not href.startswith('#') and not (ROOT/unquote(href.split('#')[0])).exists():
            problems.append(f"README.md: broken link {href}")
    for p in sorted(docs.rglob('*')):
        if p.suffix in ('.json', '.js', '.xml', '.txt') and p.is_file() and any(d in p.read_text(errors='replace') for d in DEAD_URLS):
            problems.append(f"{p.relative_to(docs)}: names a repository or site that does not exist")
    rep.check('links: local files and #anchors exist, no dead repository or site, no failed resource or script error', problems,
              f"{sum(len(s['links']) for s in seen.values())} links")

    # build-machine paths
    problems = []
    for page, s in seen.items():
        for m in BUILD_PATHS.finditer(s['text']): problems.append(f"{page}: {s['text'][max(0, m.start() - 50):m.end() + 40]!r}".replace('\\n', ' '))
        problems += [f"{page}: link {raw}" for raw, _, _ in s['links'] if raw and BUILD_PATHS.search(raw)]
    for m in BUILD_PATHS.finditer(readme): problems.append(f"README.md: {readme[max(0, m.start() - 50):m.end() + 40]!r}")
    rep.check('build paths: no /work/, /tmp/, /root/ or site-packages in the rendered text', problems)

    # maths
    problems = [f"{page}: KaTeX did not load" for page, s in seen.items() if not s['katex']]
    problems += [f"{page}: {s['maths'] - s['maths_ok']} of {s['maths']} maths spans did not typeset" for page, s in seen.items() if s['maths_ok'] < s['maths']]
    if not (math['katex'] and math['mathml'] and not math['error'] and math['font']): problems.append(f"index.html: {MATH_SAMPLE} did not typeset with KaTeX's fonts: {math}")
    rep.check('maths: KaTeX typesets offline', problems, f"{MATH_SAMPLE} -> {math.get('text')!r}; {sum(s['maths'] for s in seen.values())} maths spans in the pages")

    # search from disk
    hits = search.get('hits') or []
    problems = [f"index.html: {e}" for e in probe_errors]
    if not hits: problems.append(f"index.html (file://): typing {SEARCH_QUERY!r} shows no results: {search}")
    problems += [f"index.html: search result links to a missing page: {h}" for h in hits if not (docs/unquote(h.split('#')[0])).exists()]
    rep.check('search: works in index.html opened from disk', problems, f"{SEARCH_QUERY!r}: {len(hits)} results")

    print(f"{len(rep.failed)} check(s) failed: {', '.join(f.split(':')[0] for f in rep.failed)}" if rep.failed else 'all checks passed')
    return not rep.failed

if __name__ == '__main__':
    docs = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT/'docs'
    if 'core.html' not in {p.name for p in docs.glob('*.html')}: sys.exit(f"FAIL: {docs}/core.html was not built")
    sys.exit(0 if check(docs) else 1)
