#!/usr/bin/env python
"""Robustness of a reader on articles it never trained on (issue 19's "Measure"): today's reader and the new one side by side.

Every condition is built from the SQuAD questions of held-out articles (`--data`: the 8 test articles of
`bench/reader_recipe.py`'s split, which neither reader trained on and no choice was made on) and scored with the
official SQuAD v1.1 metric. Every question of SQuAD v1.1 has an answer, so the F1 figures score each reader's best
span (as if it never abstained); whether it would have said "no answer" (its score under its calibrated threshold)
is counted apart:

- **paragraph**: each question with its own paragraph (what SQuAD measures);
- **article**: each question with its whole article (paragraphs joined by blank lines); the answer may be anywhere;
- **distractor**: the paragraph with one look-alike sentence APPENDED, in the style of Adversarial SQuAD's AddOneSent
  (Jia & Liang 2017), made by `held_out_distractor` below, whose rules were never used in training: the question's own
  words in their order, its wh-phrase replaced by a filler of the answer's kind (year, date, number, name) taken from
  OTHER articles, and one of its names or numbers swapped for another (names from other articles). The training
  generator (`mrl.reader.lookalike_sentence`) instead rewrites the question into a statement (moving its auxiliary
  verb, adding a preposition), draws its fillers and swaps from the *same* article and inserts the sentence at any
  sentence boundary. Scored on the questions where the held-out generator could make a sentence; "from the added
  sentence" counts answers taken from it;
- **wrong paragraph**: each question paired with another paragraph of its article (chosen at random, seed 0): the
  reader should abstain. "right kept" is, of the questions answered exactly right with their own paragraph, the share
  still answered (not abstained on); "AUC" compares the scores of the own-paragraph and wrong-paragraph answers;
- **typography** / **lower case**: the paragraph condition with typographic quotes, apostrophes and dashes
  (’ ‘ “ ” –), and with question and paragraph lower-cased;
- **ECE**: expected calibration error (10 equal-width bins, percent) of the answer's score against exact match, on
  the paragraph condition;
- **questions/s** over whole articles and over paragraphs, one thread, the readers one after the other.

Each reader runs in a process of its own: today's with the code of git commit `--today-code` (the last commit before
issue 19, checked out into a temporary worktree), the new one with this checkout's code. Today's reader has no way
to abstain: it answers everything.

    python bench/robustness.py --today runs/today-28/best.safetensors --new runs/reader-heldout/reader.safetensors
"""
import argparse, gzip, json, math, os, re, subprocess, sys, tempfile, textwrap, time
from collections import Counter
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# ------------------------------------------------------------------ the held-out look-alike generator (evaluation only)
MONTHS = 'January February March April May June July August September October November December'.split()
YEAR = re.compile(r'\b(1[0-9]{3}|20[0-9]{2})\b')
NUM = re.compile(r'\b\d+(?:[.,]\d+)*\b')
NAME = re.compile(r"\b[A-Z][a-zA-Z\-']+(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][a-zA-Z\-']+)*")
SENTENCE_END = re.compile(r'(?<=[.!?])\s+(?=[A-Z"“(])')
STOP = set("a an the of in on at to for by with from and or as is was are were be been that this these those it its his her "
           "their which who what when where how why did does do".split())

def kind(text:str) -> str:
    "The kind of an answer: year, date, number, name (capitalised) or other."
    t = text.strip()
    if YEAR.fullmatch(t): return 'year'
    if any(m in t for m in MONTHS) and YEAR.search(t): return 'date'
    if NUM.search(t) and len(t.split()) <= 4: return 'number'
    if t[:1].isupper() and len(t.split()) <= 5: return 'name'
    return 'other'

def harvest(texts:list) -> dict:
    "`{kind: sorted strings}` found in `texts`: years, dates, numbers with their unit word, capitalised names (not only sentence-initial)."
    out = {k: set() for k in ('year', 'date', 'number', 'name')}
    for t in texts:
        out['year'].update(YEAR.findall(t))
        out['date'].update(m.group() for m in re.finditer(r'\b(?:\d{1,2}\s+)?(?:%s)(?:\s+\d{1,2})?,?\s+\d{4}\b' % '|'.join(MONTHS), t))
        out['number'].update(m.group() for m in re.finditer(r'\b\d+(?:[.,]\d+)*(?:\s+[a-z]+)?', t))
        for m in NAME.finditer(t):
            s, i = m.group(), m.start()
            starts = i == 0 or t[max(0, i-2):i].strip() in ('.', '!', '?', '"', '(')
            if s.split()[0].lower() not in STOP and len(s) > 2 and not (starts and ' ' not in s): out['name'].add(s)
    return {k: sorted(v) for k, v in out.items()}

def other_number(s:str, rng) -> str:
    "`s` with its first number changed (a year by 3–40 years, another number scaled)."
    def f(m):
        v = m.group()
        if YEAR.fullmatch(v): return str(int(v) + int(rng.choice([-1, 1])) * int(rng.integers(3, 40)))
        try: x = float(v.replace(',', ''))
        except ValueError: return v
        y = x * float(rng.choice([0.5, 2, 3, 1.5, 0.25])) + float(rng.integers(1, 9))
        return f"{y:,.0f}" if '.' not in v else f"{y:.1f}"
    return NUM.sub(f, s, count=1)

_WH_PHRASE = re.compile(r"\b(?:what|which|whose)(?:\s+\w+)?|\bhow (?:many|much|long|old|far|big|large)(?:\s+\w+)?|\b(?:who|whom|when|where|why|how)\b", re.I)

def held_out_distractor(question:str, answer:str, answer_start:int, context:str, pool:dict, rng) -> str|None:
    "AddOneSent-like: the question's own words in their order, its wh-phrase replaced by a filler of the answer's kind from `pool` (other articles), one of its names or numbers swapped; None if it cannot."
    k = kind(answer)
    if k in ('year', 'number') and rng.random() < 0.5: fake = other_number(answer, rng)
    else:
        opts = [c for c in pool.get(k, []) if c.lower() not in context.lower()]
        if not opts: return None
        fake = opts[int(rng.integers(len(opts)))]
    q = question.strip().rstrip('?').strip()
    m = _WH_PHRASE.search(q)
    sent = q[:m.start()] + fake + q[m.end():] if m else f"{q} {fake}"
    body = question[question.find(' ') + 1:]
    elems = sorted({*(m.group() for m in NAME.finditer(body) if m.group().split()[0].lower() not in STOP), *YEAR.findall(question),
                    *(m.group() for m in NUM.finditer(question))}, key=lambda e: (-len(e), e))
    for e in elems:
        if e not in sent or e in fake: continue
        if NUM.fullmatch(e): new = other_number(e, rng)
        else:
            opts = [c for c in pool['name'] if c != e and e not in c and c not in e]
            if not opts: continue
            new = opts[int(rng.integers(len(opts)))]
        if new != e:
            sent = sent.replace(e, new, 1)
            return sent[:1].upper() + sent[1:] + '.'
    return None

TYPOGRAPHY = [(re.compile(r"(\w)'(\w)"), '\\1’\\2'), (re.compile(r'"([^"]*)"'), '“\\1”'), (re.compile(r'(\w)-(\w)'), '\\1–\\2'),
              (re.compile(r" - "), ' — ')]
def typographic(s:str) -> str:
    for rx, rep in TYPOGRAPHY: s = rx.sub(rep, s)
    return s

# ------------------------------------------------------------------ conditions
def conditions(path:Path, seed:int=0, max_questions:int|None=None) -> tuple[dict, dict, dict]:
    "`(conditions, references, extra)`: `{condition: [[key, question, text], ...]}`, `{qid: [answers]}`, bookkeeping."
    raw = json.loads(gzip.decompress(path.read_bytes()) if path.read_bytes()[:2] == b'\x1f\x8b' else path.read_bytes())
    rng = np.random.default_rng(seed)
    arts = [(a['title'], [p['context'] for p in a['paragraphs']],
             [(q['id'], q['question'], [x['text'] for x in q['answers']], pi, q['answers'][0]['answer_start'])
              for pi, p in enumerate(a['paragraphs']) for q in p['qas']]) for a in raw['data']]
    conds = {k: [] for k in ('paragraph', 'article', 'wrong_paragraph', 'distractor', 'typography', 'lower_case')}
    refs, added = {}, {}
    n = 0
    for ai, (title, paras, qs) in enumerate(arts):
        article = '\n\n'.join(paras)
        if max_questions: qs = qs[:max(0, max_questions - n)]; n += len(qs)
        pool = harvest([p for j, (_, ps, _) in enumerate(arts) if j != ai for p in ps])
        for qid, q, answers, pi, start in qs:
            refs[qid] = answers
            ctx = paras[pi]
            conds['paragraph'].append([qid, q, ctx])
            conds['article'].append([qid, q, article])
            others = [j for j in range(len(paras)) if j != pi]
            if others: conds['wrong_paragraph'].append([qid, q, paras[others[int(rng.integers(len(others)))]]])
            s = held_out_distractor(q, answers[0], start, ctx, pool, rng)
            if s: conds['distractor'].append([qid, q, ctx + ' ' + s]); added[qid] = len(ctx) + 1
            conds['typography'].append([qid, typographic(q), typographic(ctx)])
            conds['lower_case'].append([qid, q.lower(), ctx.lower()])
    return conds, refs, {'added_at': added, 'articles': [a[0] for a in arts]}

# ------------------------------------------------------------------ running a reader in its own process
RUNNER = textwrap.dedent('''
    import inspect, json, sys, time, torch
    torch.set_num_threads(int(sys.argv[3]))
    from {module} import load_reader
    reader = load_reader(sys.argv[1], 'cpu')
    threshold = (getattr(reader, 'calibration', None) or {{}}).get('threshold')    # today's reader has none: it always answers
    always = {{'abstain': False}} if 'abstain' in inspect.signature(reader.answer_many).parameters else {{}}
    conds = json.load(open(sys.argv[2]))
    out = {{}}
    for name, pairs in conds.items():
        t = time.perf_counter()
        answers = reader.answer_many([(q, c) for _, q, c in pairs], progress=False, **always)   # every best span, and whether it would be given
        dt = time.perf_counter() - t
        out[name] = {{'seconds': dt, 'answers': {{k: [a.text, a.start, a.end, float(a.score), threshold is None or a.score >= threshold]
                                                for (k, _, _), a in zip(pairs, answers)}}}}
    json.dump(out, sys.stdout)
''')

def run_reader(checkpoint:str, code:Path, module:str, conds:dict, threads:int) -> dict:
    "The answers and timings of one reader, run with the code in `code` (a checkout) in a subprocess."
    with tempfile.TemporaryDirectory() as d:
        cf = Path(d)/'conds.json'; cf.write_text(json.dumps(conds))
        env = {**os.environ, 'PYTHONPATH': str(code), 'OMP_NUM_THREADS': str(threads), 'PYTHONWARNINGS': 'ignore'}
        res = subprocess.run([sys.executable, '-c', RUNNER.format(module=module), str(Path(checkpoint).resolve()), str(cf), str(threads)],
                             capture_output=True, text=True, env=env, cwd=d)
        if res.returncode: sys.exit(f"the reader {checkpoint} failed:\n{res.stderr[-3000:]}")
        return json.loads(res.stdout)

def checkout(commit:str) -> tuple[Path, callable]:
    "A temporary git worktree of `commit` (and a function that removes it)."
    d = Path(tempfile.mkdtemp(prefix='mrl-today-'))
    subprocess.run(['git', '-C', str(ROOT), 'worktree', 'add', '--detach', '-f', str(d/'mrl'), commit], check=True, capture_output=True)
    def remove(): subprocess.run(['git', '-C', str(ROOT), 'worktree', 'remove', '--force', str(d/'mrl')], capture_output=True)
    return d/'mrl', remove

# ------------------------------------------------------------------ scores
def scores(out:dict, refs:dict, extra:dict) -> dict:
    "The table's figures for one reader's `out`."
    from mrl.evaluation import squad_metrics, exact_match_score, metric_max_over_ground_truths
    em = lambda k, t: metric_max_over_ground_truths(exact_match_score, t, refs[k])
    def f1_of(name, keys=None):
        ans = out[name]['answers']; keys = keys or list(ans)
        return squad_metrics({k: ans[k][0] for k in keys}, {k: refs[k] for k in keys}, warn=False)['f1']
    par, wrong = out['paragraph']['answers'], out['wrong_paragraph']['answers']
    dis = out['distractor']['answers']
    right = [k for k, v in par.items() if em(k, v[0])]
    conf = np.array([v[3] for v in par.values()]); corr = np.array([em(k, v[0]) for k, v in par.items()], float)
    bins = np.minimum((conf * 10).astype(int), 9)
    ece = 100 * sum((bins == b).mean() * abs(conf[bins == b].mean() - corr[bins == b].mean()) for b in range(10) if (bins == b).any())
    pos, neg = np.array([par[k][3] for k in par]), np.array([wrong[k][3] for k in wrong])
    ranks = np.concatenate([pos, neg]).argsort().argsort() + 1
    auc = (ranks[:len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg))
    n = len(par)
    return {'paragraph_f1': f1_of('paragraph'), 'article_f1': f1_of('article'),
            'distractor_f1': f1_of('distractor'), 'distractor_paragraph_f1': f1_of('paragraph', list(dis)),
            'distractor_from_added': sum(1 for k, v in dis.items() if v[1] is not None and v[1] >= extra['added_at'][k]),
            'distractor_n': len(dis),
            'wrong_abstained': 100 * np.mean([not v[4] for v in wrong.values()]),
            'right_kept': 100 * np.mean([par[k][4] for k in right]) if right else float('nan'), 'auc': auc,
            'typography_f1': f1_of('typography'), 'lower_case_f1': f1_of('lower_case'), 'ece': ece,
            'answered_paragraph': 100 * np.mean([v[4] for v in par.values()]),
            'article_qps': n / out['article']['seconds'], 'paragraph_qps': n / out['paragraph']['seconds']}

def quick(out:dict, refs:dict, extra:dict) -> dict:
    "F1 (and answers from the added sentence) of the conditions a quick check ran."
    from mrl.evaluation import squad_metrics
    res = {name: round(squad_metrics({k: v[0] for k, v in o['answers'].items()}, {k: refs[k] for k in o['answers']}, warn=False)['f1'], 2) for name, o in out.items()}
    if 'distractor' in out:
        d = out['distractor']['answers']
        res['distractor_from_added'] = sum(1 for k, v in d.items() if v[1] is not None and v[1] >= extra['added_at'][k])
        if 'paragraph' in out: res['paragraph_f1_same_questions'] = round(squad_metrics({k: out['paragraph']['answers'][k][0] for k in d}, {k: refs[k] for k in d}, warn=False)['f1'], 2)
    return res

ROWS = [('paragraph F1', 'paragraph_f1', '{:.1f}'), ('whole-article F1', 'article_f1', '{:.1f}'),
        ('  drop from paragraph F1', 'article_drop', '{:+.1f}'),
        ('distractor F1 (held-out generator)', 'distractor_f1', '{:.1f}'), ('  same questions, no distractor', 'distractor_paragraph_f1', '{:.1f}'),
        ('  drop', 'distractor_drop', '{:+.1f}'), ('  answers from the added sentence', 'distractor_from_added', '{:d}'),
        ('wrong paragraph: abstained %', 'wrong_abstained', '{:.1f}'), ('right answers still given %', 'right_kept', '{:.1f}'),
        ('AUC own vs wrong paragraph', 'auc', '{:.3f}'), ('paragraph questions answered %', 'answered_paragraph', '{:.1f}'),
        ('typographic F1', 'typography_f1', '{:.1f}'), ('lower-case F1', 'lower_case_f1', '{:.1f}'), ('ECE (score vs EM) %', 'ece', '{:.1f}'),
        ('questions/s, whole articles', 'article_qps', '{:.2f}'), ('questions/s, paragraphs', 'paragraph_qps', '{:.1f}')]

def table(res:dict) -> str:
    names = list(res)
    for r in res.values():
        r['article_drop'] = r['article_f1'] - r['paragraph_f1']; r['distractor_drop'] = r['distractor_f1'] - r['distractor_paragraph_f1']
    w = max(len(r[0]) for r in ROWS)
    lines = [f"{'':<{w}}  " + '  '.join(f'{n:>10}' for n in names)]
    for label, key, fmt in ROWS: lines.append(f"{label:<{w}}  " + '  '.join(f'{fmt.format(res[n][key]):>10}' for n in names))
    if len(names) == 2:
        a, b = (res[n] for n in names)
        lines.append(f"{'whole-article questions/s ratio':<{w}}  {b['article_qps'] / a['article_qps']:>22.2f}x")
    return '\n'.join(lines)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--today', help="today's reader: a checkpoint trained with today's recipe on the training articles")
    p.add_argument('--new', help='the new reader (its checkpoint)')
    p.add_argument('--data', default=str(ROOT/'runs'/'reader-split'/'test-8.json'), help='held-out SQuAD file')
    p.add_argument('--today-code', default='d99257a', help="the commit whose code runs today's reader")
    p.add_argument('--threads', type=int, default=1); p.add_argument('--out', default=None, help='write the figures as JSON here')
    p.add_argument('--max_questions', type=int, default=None, help='only the first questions (a quick check; the figures need all)')
    p.add_argument('--only', default=None, help='a quick check of some conditions, e.g. paragraph,distractor (the table needs all)')
    a = p.parse_args()
    conds, refs, extra = conditions(Path(a.data), max_questions=a.max_questions)
    if a.only:
        conds = {k: v for k, v in conds.items() if k in a.only.split(',')}
        if a.today:
            code, remove = checkout(a.today_code)
            try: print('today', quick(run_reader(a.today, code, 'mrl.training', conds, a.threads), refs, extra), flush=True)
            finally: remove()
        if a.new: print('new', quick(run_reader(a.new, ROOT, 'mrl.reader', conds, a.threads), refs, extra), flush=True)
        return
    print(f"{len(refs):,} questions of {len(extra['articles'])} held-out articles; {len(conds['distractor']):,} with a held-out look-alike sentence", flush=True)
    res = {}
    if a.today:
        code, remove = checkout(a.today_code)
        try: res['today'] = scores(run_reader(a.today, code, 'mrl.training', conds, a.threads), refs, extra)
        finally: remove()
    if a.new: res['new'] = scores(run_reader(a.new, ROOT, 'mrl.reader', conds, a.threads), refs, extra)
    print(table(res))
    if a.out: Path(a.out).write_text(json.dumps(res, indent=1))

if __name__ == '__main__': main()
