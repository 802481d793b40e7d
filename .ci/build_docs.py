#!/usr/bin/env python
"""Build README.md and the documentation site in `docs/` from the notebooks, offline.

nbdev 2.4.14 processes the notebooks (API reference via `show_doc`, front matter, doc links) into `_proc/`, as
`nbdev_proc_nbs` does; the pure-Python, Quarto-compatible renderer smalldocs 0.5.4 turns `_proc/` into HTML; README.md
comes from the processed `index.ipynb`. The builders considered: Quarto (what `nbdev_docs` runs, and still can where it
is installed) cannot be installed offline: the `quarto-cli` package downloads its binary while it builds. mkdocs-jupyter
and Jupyter Book render notebooks but not the Quarto markup nbdev writes (`:::` fenced divs, `{target=...}` link
attributes, `#|` cell options), so the API entries would lose their layout; smalldocs renders it. The build:

- renders dataclasses and NamedTuples with a table of their fields (name, type, default, the field's comment);
- leaves backticked names in the code blocks of `show_doc` (docments) alone instead of writing Markdown links there;
- names properties `Class.attr` (also `attr = property(lambda self: ...)`) with `@property` in the signature, and
  shows no docstring rather than fastcore's fallback "Call self as a function." for a function that has none;
- names decorated patched methods (`@patch @torch.no_grad() def predict(self:Learner)`) `Learner.predict`, with a
  source link, as undecorated ones are; gives every source link its line (nbdev writes `#LNone` for full names);
- groups the sidebar into sections (`SECTIONS` below) with previous/next links at the bottom of each page;
- points source links at the files of this repository (`../mrl/core.py#L10`) instead of the `git_url` of
  settings.ini, and writes no link to `doc_host` (no sitemap, no repository actions);
- loads nothing from the network: no Google Fonts import in the theme (the system font instead), and `$...$` /
  `$$...$$` typeset with a vendored KaTeX (`.ci/katex/`, copied to `docs/site_libs/katex/`);
- writes the search index also as `search.js`, so that search works in `docs/index.html` opened from disk.

How, and why that way. No nbdev or smalldocs internals are patched; what is left outside their options is editing the
files they write, each for a reason given here:
- nbdev's own settings, set for this process only (`_build_settings`; settings.ini stays as it is, so notebooks and
  `nbdev_test` use nbdev's renderer): `renderer = build_docs.Renderer`, a subclass of nbdev's `BasicMarkdownRenderer`
  (the first four points above; a dataclass defined by the doc processor from an export cell has its field comments
  read from the exported module), and `skip_procs = add_links` with `procs = build_docs:add_links`, nbdev's processor
  of that name less the links in code blocks. A settings file in nbdev's user config folder (XDG) would not do:
  settings.ini sets `skip_procs` (empty), and settings.ini wins.
- the sidebar's sections: `sidebar.yml`, written here (`nbdev_sidebar` writes one section per folder, by file name).
- page names: smalldocs names a page after its file and ignores nbdev's `output-file`: `_proc/00_core.ipynb` is
  renamed `core.ipynb`. Doc links are made relative and `site-url`/`repo-url` taken out of nbdev.yml, since
  `doc_host` and `git_url` are placeholders; source links are pointed at the repository's files in the HTML.
- KaTeX: smalldocs 0.5.4 links KaTeX from a CDN (a constant in `smalldocs/layout.py`; it reads no `html-math-method`)
  and `include-in-header` can add the vendored copy but not remove the CDN tags, which fail offline: the build swaps
  them in each page.
- fonts: smalldocs' Bootswatch themes `@import` Google Fonts, which `mainfont` does not remove (a theme of our own
  would be a copy of cosmo to keep up to date): the build deletes the import from the copied theme.
- search from disk: nbs/_quarto.yml's `include-in-header` (a smalldocs and Quarto option) serves smalldocs' `fetch` of
  `search.json`, which a page opened from disk may not do, from `search.js`, which the build writes beside it.
- dropped: patches of `NbdevLookup.code` and of the `exec_show_docs` processor (both now inside `Renderer`), the string
  edit of `smalldocs.js` (now the `include-in-header` above), and the reversal of `_def_names`, which one definition
  per export cell made dead (a cell with two definitions now lists them last first, as nbdev does).

The build is reproducible: no timestamps, absolute doc links made relative.

Usage: python .ci/build_docs.py [--check]   (--check: fail if README.md or docs/ would change)
"""
import ast, functools, io, json, os, re, shutil, subprocess, sys, textwrap, tokenize, warnings
from pathlib import Path
from nbdev.doclinks import NbdevLookup, patch_name
from nbdev.showdoc import BasicMarkdownRenderer

ROOT = Path(__file__).resolve().parent.parent
KATEX = Path(__file__).resolve().parent/'katex'

# The sidebar: the home page first, then these sections in this order, each with its pages (named as in docs/, without
# `.html`) in this order; a page not built (yet) is left out. A page that no section names goes into DEFAULT_SECTION, after the
# others, in notebook order.
SECTIONS = {
    'Foundations': ['core', 'dataloaders'],
    'Chemistry': ['chem', 'smiles', 'smiles_lm', 'tutorial_smiles'],
    'Question answering': ['squad', 'coattention', 'decoder', 'evaluation', 'checkpoints', 'reader', 'learner', 'cli', 'training', 'tutorial_qa'],
}
DEFAULT_SECTION = 'More'
HOME = 'index'

def sidebar_layout(pages:list) -> list:
    "`[(section or None, [page, ...]), ...]` for `pages` (names without `.html`, in notebook order): home, then `SECTIONS`, then the rest."
    pages = list(pages)
    out = [(None, [HOME])] if HOME in pages else []
    for section, names in SECTIONS.items():
        found = [n for n in names if n in pages]
        if found: out.append((section, found))
    known = {HOME, *(n for names in SECTIONS.values() for n in names)}
    rest = [p for p in pages if p not in known]
    if rest: out.append((DEFAULT_SECTION, rest))
    return out

# ---------------------------------------------------------------- show_doc, as the build renders it

@functools.cache
def _library_sources() -> dict:
    "`{class name: source}` of each top-level class of the library's modules, with its decorators, and `{file: {name: line}}` of their definitions."
    from nbdev.config import get_config
    classes, lines = {}, {}
    lib = get_config().lib_path
    for py in sorted(lib.rglob('*.py')):
        if '__pycache__' in py.parts: continue
        src = py.read_text()
        try: tree = ast.parse(src)
        except SyntaxError: continue
        text, defs = src.splitlines(), {}
        for node in tree.body:
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)): continue
            names = patch_name(node)  # `@patch def f(self:Learner)` is `Learner.f`, as nbdev's index names it
            for name in names if isinstance(names, list) else [names]: defs[name] = node.lineno
            if isinstance(node, ast.ClassDef):
                defs.update({f'{node.name}.{sub.name}': sub.lineno for sub in node.body if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))})
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                classes.setdefault(node.name, textwrap.dedent('\n'.join(text[first-1:node.end_lineno])))
        lines[py.relative_to(lib.parent).as_posix()] = defs
    return classes, lines

def _class_source(cls) -> str|None:
    "The source of `cls`: from its module, or, for a class the doc processor defined from an export cell (in `__main__`), from the exported module."
    if cls.__module__ == '__main__': return _library_sources()[0].get(cls.__qualname__)
    import inspect
    try: return textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError): return None

def source_link(fullname:str) -> str|None:
    "The source link of `fullname` (`mrl.core.Vocab.save`): its file in the repository and the line of its definition, when nbdev's index knows it."
    res = NbdevLookup()[fullname]
    if not isinstance(res, tuple): return None
    _, py, gh = res
    mod = py[:-3].replace('/', '.') + '.' if py.endswith('.py') else ''
    line = _library_sources()[1].get(py, {}).get(fullname[len(mod):] if mod and fullname.startswith(mod) else fullname)
    return f'{gh}#L{line}' if line else gh

def _field_notes(src:str, name:str) -> tuple:
    "`(header, {field: (type, default, comment)})` read from the source of class `name`: the `class` line with its decorators, and each annotated field."
    if not src: return None, {}
    try: tree = ast.parse(src)
    except SyntaxError: return None, {}
    node = next((n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == name), None)
    if node is None: return None, {}
    comments = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(src).readline):
            if tok.type == tokenize.COMMENT: comments[tok.start[0]] = (tok.string.lstrip('#').strip(), tok.line.strip().startswith('#'))
    except (tokenize.TokenError, IndentationError): pass
    seg = lambda n: ' '.join((ast.get_source_segment(src, n) or '').split())
    header = '\n'.join([f'@{seg(d)}' for d in node.decorator_list] + [f"class {name}{'(' + ', '.join(seg(b) for b in node.bases) + ')' if node.bases else ''}:"])
    notes = {}
    for stmt in node.body:
        if not (isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name)): continue
        comment = comments.get(stmt.end_lineno, comments.get(stmt.lineno, ('', False)))
        comment = comment[0] if not comment[1] else ''
        if not comment:  # comment lines just above the field
            above, ln = [], stmt.lineno - 1
            while ln in comments and comments[ln][1]: above.insert(0, comments[ln][0]); ln -= 1
            comment = ' '.join(above)
        default = None
        if stmt.value is not None:
            v = stmt.value
            if isinstance(v, ast.Call) and seg(v.func).split('.')[-1] == 'field':
                kw = {k.arg: k.value for k in v.keywords}
                default = f'{seg(kw["default_factory"])}()' if 'default_factory' in kw else seg(kw['default']) if 'default' in kw else None
            else: default = seg(v)
        notes[stmt.target.id] = (seg(stmt.annotation), default, comment)
    return header, notes

def _is_namedtuple(cls) -> bool: return isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, '_fields')

def fields_table(cls) -> tuple:
    "`(header, markdown table)` of the fields of a dataclass or NamedTuple `cls` (`(None, None)` for another object)."
    import dataclasses, inspect
    if not isinstance(cls, type): return None, None
    if dataclasses.is_dataclass(cls):
        names = [f.name for f in dataclasses.fields(cls)]
        def default(f):
            if f.default is not dataclasses.MISSING: return repr(f.default)
            if f.default_factory is not dataclasses.MISSING: return f'{getattr(f.default_factory, "__name__", "factory")}()'
        runtime = {f.name: (f.type if isinstance(f.type, str) else inspect.formatannotation(f.type), default(f)) for f in dataclasses.fields(cls)}
        kind = 'dataclass'
    elif _is_namedtuple(cls):
        names = list(cls._fields)
        annos = getattr(cls, '__annotations__', {})
        runtime = {n: (annos[n] if isinstance(annos.get(n), str) else inspect.formatannotation(annos[n]) if n in annos else '',
                       repr(cls._field_defaults[n]) if n in cls._field_defaults else None) for n in names}
        kind = 'NamedTuple'
    else: return None, None
    if not names: return None, None
    header, notes = None, {}
    for base in reversed(cls.__mro__):  # a field's comment is in the class that declares it
        if base is cls or (base.__module__ not in ('builtins', 'typing') and base.__dict__.get('__annotations__')):
            h, n = _field_notes(_class_source(base), base.__name__)
            notes.update(n)
            if base is cls: header = h
    if header is None: header = f'@dataclass\nclass {cls.__name__}:' if kind == 'dataclass' else f'class {cls.__name__}(NamedTuple):'
    cell = lambda s: (s or '').replace('|', r'\|').replace('\n', ' ')
    rows = ['| Field | Type | Default | Description |', '|---|---|---|---|']
    for n in names:
        typ, dflt = runtime[n]
        s_typ, s_dflt, comment = notes.get(n, (None, None, ''))
        typ, dflt = s_typ or typ, s_dflt if s_dflt is not None else dflt
        rows.append(f"| `{cell(n)}` | {'`' + cell(typ) + '`' if typ else ''} | {'`' + cell(dflt) + '`' if dflt is not None else '*required*'} | {cell(comment)} |")
    return header, '\n'.join(rows)

def _property_name(prop) -> str|None:
    "`Class.attr` of a property, found in the class its getter was defined in (a lambda's name says nothing)."
    fget = getattr(prop, 'fget', None)
    qual = getattr(fget, '__qualname__', '')
    if '.' not in qual: return None
    cls = getattr(fget, '__globals__', {}).get(qual.split('.')[0])
    for part in qual.split('.')[1:-1]: cls = getattr(cls, part, None)
    attr = next((k for k, v in vars(cls).items() if v is prop), None) if isinstance(cls, type) else None
    return f'{cls.__qualname__}.{attr}' if attr else None

def _fullname(o) -> str:
    mod, name = getattr(o, '__module__', None), o.__qualname__
    return name if mod in (None, '__main__', 'builtins') else f'{mod}.{name}'

class Renderer(BasicMarkdownRenderer):
    """nbdev's `show_doc` renderer (`renderer` setting), with fields tables for dataclasses and NamedTuples, `Class.attr` for
    properties, the class in the name of decorated patched methods, no fallback docstring, and source links with a line."""
    def __init__(self, sym, name=None, title_level=3, **kwargs):
        super().__init__(sym, name=name, title_level=title_level, **kwargs)
        import inspect
        self.prop = _property_name(sym) if isinstance(sym, property) else None
        if self.prop and name is None: self.nm = self.prop
        # nbdev unwraps `__wrapped__` to read the signature; `@patch` named the wrapper (`Learner.predict`), not the function inside
        outer = getattr(sym, '__qualname__', None)
        if name is None and isinstance(outer, str) and '.' in outer and self.sym is not sym and getattr(self.sym, '__qualname__', None) != outer:
            self.nm, self.fn = outer, _fullname(sym)
        # fastcore falls back to `__call__`'s docstring ("Call self as a function.") for a function that has none
        own = inspect.getdoc(sym if isinstance(sym, property) else self.sym)  # inherited from a base class's method too
        if not own: self.docs = ''
        elif isinstance(sym, property): self.docs = inspect.cleandoc(own)

    def _repr_markdown_(self):
        "What nbdev's renderer writes (a rule, the source link, the name, then fastcore's signature and docstring), with this build's changes."
        from fastcore.docments import MarkdownRenderer
        src = source_link(str(self.fn))  # nbdev's own link misses the line of full names (`#LNone`)
        md = '---\n\n' + (f'[source]({src}){{target="_blank" style="float:right; font-size:smaller"}}\n\n' if src else '')
        md += f"{'#' * self.title_level} {self.nm}\n\n" + MarkdownRenderer._repr_markdown_(self)
        if self.prop:
            attr = self.prop.rsplit('.', 1)[-1]
            md = re.sub(r'```python\n(.*?)\n```', lambda m: f"```python\n@property\n{m.group(1).replace('<lambda>', attr)}\n```", md, count=1, flags=re.S)
        header, table = fields_table(self.sym)
        if table is None: return md
        md = re.sub(r'```python\n.*?\n```', lambda m: f'```python\n{header}\n```', md, count=1, flags=re.S)
        return f'{md}\n\n{table}'

def add_links(cell):
    "nbdev's `add_links` processor, but leaving the code blocks of markdown outputs alone (a docment's backticks are not a Markdown link there)."
    nl = NbdevLookup()
    if cell.cell_type == 'markdown': cell.source = nl.linkify(cell.source)
    for o in cell.get('outputs', []):
        if hasattr(o, 'data') and hasattr(o['data'], 'text/markdown'):
            lines, fenced = ''.join(o.data['text/markdown']).splitlines(True), False
            for i, l in enumerate(lines):
                if l.startswith('```'): fenced = not fenced
                elif not fenced: lines[i] = nl.link_line(l)
            o.data['text/markdown'] = lines

def _build_settings():
    """Set nbdev's `renderer`, `skip_procs` and `procs` for this process: `show_doc` renders with `Renderer`, and `add_links`
    replaces nbdev's processor of that name. settings.ini stays as it is, so notebooks and `nbdev_test` use nbdev's own."""
    from nbdev.config import get_config
    cfg = get_config()
    me = 'build_docs'  # nbdev imports them by name; run as a script, this module is `__main__`, which IPython's shell replaces
    sys.modules.setdefault(me, sys.modules[__name__])
    cfg['renderer'] = f'{me}.Renderer'
    cfg['skip_procs'] = ','.join(filter(None, [*cfg.get('skip_procs', '').split(','), 'add_links']))
    cfg['procs'] = ' '.join(filter(None, [*cfg.get('procs', '').split(), f'{me}:add_links']))
    if get_config().get('renderer') != cfg['renderer']: sys.exit("build_docs: nbdev's get_config() no longer returns one config per process; cannot set the build's renderer and processors")

# ---------------------------------------------------------------- the build

def _process_notebooks():
    "Run nbdev's doc processors over `nbs/` into `_proc/` (what `nbdev_proc_nbs` does, without installing Quarto)."
    from nbdev.config import get_config
    from nbdev.quarto import refresh_quarto_yml
    from nbdev.serve import proc_nbs
    import nbdev.doclinks
    refresh_quarto_yml()
    nbdev.doclinks._build_modidx()  # (no nbdev_sidebar: `_finish_proc` writes the sidebar, with its sections)
    _build_settings()
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        proc = proc_nbs(force=True, n_workers=0)
    cfg = get_config()
    return proc, f"{cfg.doc_host}{cfg.doc_baseurl}".rstrip('/') + '/', f"{cfg.git_url.rstrip('/')}/blob/{cfg.branch}/"

def _front_matter(nb):
    "The YAML front matter nbdev put in the first raw cell, as a dict."
    import yaml
    cell = nb['cells'][0] if nb['cells'] else None
    if not cell or cell['cell_type'] != 'raw': return {}
    return yaml.safe_load(''.join(cell['source']).strip().strip('-')) or {}

def _finish_proc(proc, site_url):
    "Name pages after nbdev's `output-file` (`00_core.ipynb` -> `core`), make doc links relative, drop data files, write the sidebar."
    shutil.rmtree(proc/'files', ignore_errors=True)
    pages = []
    for nb_path in sorted(proc.glob('*.ipynb')):
        text = nb_path.read_text().replace(site_url, '')
        nb = json.loads(text)
        out = _front_matter(nb).get('output-file')
        new = nb_path.with_name(Path(out).stem + '.ipynb') if out else nb_path
        new.write_text(re.sub(r'"output-file: [^"]*",\s*', '', text))  # smalldocs names pages after files
        if new != nb_path: nb_path.unlink()
        pages.append(new.stem)
    side = ['website:', '  sidebar:', '    contents:']
    for section, names in sidebar_layout(pages):
        if section is None: side += [f'      - {n}.ipynb' for n in names]
        else: side += [f'      - section: "{section}"', '        contents:'] + [f'          - {n}.ipynb' for n in names]
    (proc/'sidebar.yml').write_text('\n'.join(side) + '\n')
    # no site-url (a sitemap and absolute links to a site that does not exist) and no repository links
    ny = proc/'nbdev.yml'
    ny.write_text(''.join(l for l in ny.read_text().splitlines(True) if not re.match(r'\s+(site-url|repo-url|repo-branch):', l)))

def _render(proc):
    "Render `_proc/` with smalldocs and move the site to `docs/`."
    smalldocs = Path(sys.executable).parent/'smalldocs'
    subprocess.run([str(smalldocs) if smalldocs.exists() else 'smalldocs', 'render', '--quiet', str(proc)], check=True)
    site = proc/'docs'
    docs = ROOT/'docs'
    if docs.exists(): shutil.rmtree(docs)
    shutil.copytree(site, docs)
    (docs/'.nojekyll').touch()
    return docs

_KATEX_CDN = re.compile(r'<link rel="stylesheet" href="https://cdn\.jsdelivr\.net/npm/katex@[^"]*">|<script src="https://cdn\.jsdelivr\.net/npm/katex@[^"]*"( defer)?></script>')

def _finish_site(docs:Path, source_url:str):
    "Vendored KaTeX on every page, no Google Fonts, source links into this repository, the search index as a script."
    shutil.copytree(KATEX, docs/'site_libs'/'katex', ignore=shutil.ignore_patterns('README.md'))
    for css in sorted((docs/'site_libs'/'themes').rglob('*.css')):  # Bootswatch themes import Google Fonts: offline, the system font
        css.write_text(re.sub(r'@import url\(https?://fonts\.googleapis\.com/[^)]*\);', '', css.read_text()))
    # a page opened from disk may not fetch() search.json, but may load a script: nbs/_quarto.yml's `include-in-header`
    # serves smalldocs' fetch of search.json from search.js
    index = json.loads((docs/'search.json').read_text())
    (docs/'search.js').write_text('window.smalldocsSearchIndex = ' + json.dumps(index, ensure_ascii=False) + ';\n')
    for page in sorted(docs.rglob('*.html')):
        html = page.read_text()
        offset = os.path.relpath(docs, page.parent).replace(os.sep, '/') + '/'
        offset = '' if offset == './' else offset
        html = _KATEX_CDN.sub('', html)
        smalldocs_js = f'<script src="{offset}site_libs/smalldocs.js" defer></script>'
        if smalldocs_js not in html: sys.exit(f"build_docs: {page} does not load {offset}site_libs/smalldocs.js; cannot add KaTeX")
        katex = (f'<link rel="stylesheet" href="{offset}site_libs/katex/katex.min.css">'
                 f'<script src="{offset}site_libs/katex/katex.min.js" defer></script>'
                 f'<script src="{offset}site_libs/katex/auto-render.min.js" defer></script>')
        html = html.replace(smalldocs_js, katex + smalldocs_js)  # deferred scripts run in order: KaTeX before smalldocs.js renders
        repo = os.path.relpath(ROOT, page.parent).replace(os.sep, '/') + '/'
        html = html.replace(source_url, repo)
        page.write_text(html)

def _cell_markdown(cell):
    "GitHub markdown for one processed cell: markdown as is, code fenced, text outputs fenced, markdown outputs inline."
    src = ''.join(cell['source'])
    if cell['cell_type'] == 'markdown': return src if 'AUTOGENERATED' not in src else ''
    if cell['cell_type'] != 'code': return ''
    directives = dict(re.findall(r'^#\|\s*([\w-]+):?\s*(.*)$', src, re.M))
    code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|')).strip()
    parts = [] if directives.get('echo') == 'false' or not code else [f'```python\n{code}\n```']
    for out in cell.get('outputs', []):
        data = out.get('data', {})
        if 'text/markdown' in data: parts.append(''.join(data['text/markdown']))
        elif 'text/plain' in data: parts.append('    ' + ''.join(data['text/plain']).replace('\n', '\n    '))
        elif out.get('output_type') == 'stream': parts.append('    ' + ''.join(out['text']).rstrip().replace('\n', '\n    '))
    return '\n\n'.join(parts)

def _readme(proc, source_url):
    "README.md from the processed `index.ipynb`: title and description from its front matter, then its cells."
    nb = json.loads((proc/'index.ipynb').read_text())
    fm = _front_matter(nb)
    head = [f"# {fm.get('title', 'mrl')}", f"> {' '.join(fm.get('description', '').split())}" if fm.get('description') else '']
    body = [_cell_markdown(c) for c in nb['cells'][1:]]
    text = '\n\n'.join(p.strip() for p in head + body if p.strip()) + '\n'
    text = re.sub(r'\]\((?!https?:|#)([\w.-]+\.html(?:#[^)]*)?)\)', r'](docs/\1)', text)  # doc links from the repo root
    text = text.replace(source_url, '')  # source links, relative to the repository root
    (ROOT/'README.md').write_text(f"<!-- Generated from nbs/index.ipynb by `python .ci/build_docs.py`: edit the notebook, not this file. -->\n\n{text}")

def main(check=False):
    os.chdir(ROOT)
    proc, site_url, source_url = _process_notebooks()
    _finish_proc(proc, site_url)
    _readme(proc, source_url)
    docs = _render(proc)
    _finish_site(docs, source_url)
    shutil.rmtree(proc, ignore_errors=True)
    print(f"Built README.md and docs/ ({len(list(docs.glob('*.html')))} pages)")
    if check:
        diff = subprocess.run(['git', 'status', '--porcelain', '--', 'README.md', 'docs'], capture_output=True, text=True).stdout
        if diff: sys.exit(f"README.md or docs/ are out of date with the notebooks; rebuild and commit:\n{diff}")

if __name__ == '__main__': main(check='--check' in sys.argv[1:])
