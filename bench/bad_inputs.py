#!/usr/bin/env python
"""Bad-input audit (issues 14 and 18): every bad-input case of the two issues' groups and of the notebooks' tests, run
in-process (captured output) or as a subprocess, classified and counted in one table.

Outcomes:
- located error: an error that names the file/option and the place (line, article, question id, field, SMILES index);
- counted skip: the bad item is skipped (or cut) and the skip is counted and reported;
- handled correctly: the input is valid after all, or is dealt with as documented (e.g. one string = one molecule);
- documented limit: a limit the documentation states (listed separately, e.g. a forger can recompute a digest);
- vague error: a clear exception type but a message without the place;
- traceback: a raw exception (KeyError, TypeError, IndexError, ...) or a traceback printed by a command;
- silent wrong: the input is accepted and the result is wrong, or an error names the wrong place; code that a data
  file names ran (`CODE RAN`);
- data loss: a file of the user's (an input, an earlier run, a file in the run folder) was changed or removed;
- hang: no answer within the time limit, or a run over 60 s.

Targets: 0 tracebacks, 0 silent wrong results, 0 data losses, nothing over 60 s, no code run by loading a
vocabulary or a checkpoint, no checkpoint holds non-finite weights, kill -9 loses at most the epoch in progress (then
--resume reproduces the uninterrupted run exactly).
Groups 1-10 are issue 14's, groups 11-15 issue 18's (no code from data files, the user's files, silent results,
unbounded inputs, vague errors, each with the cases found by analogy). A case that another branch fixes names that
branch (`owner`); the summary lists what still fails by that branch. Cases of the SMILES and vocabulary groups (4, 9)
and of the SQuAD reader exercise mrl.chem, mrl.smiles, mrl.dataloaders and mrl.squad as they are in this checkout.
Cases tagged [cN] are case N of the SMILES/vocabulary case list of issue 14's items 4 and 9 (group 4 also holds its
SMILES dataset and loader cases); group 6 covers every console command (mrl_train_qa, mrl_predict_qa DATA
--checkpoint CK, mrl_eval_squad, mrl_ask, mrl_demo); group 0 holds the cases the notebooks test, among them the
reader's Python API (`load_reader`, `Reader.answer`, `Reader.answer_many`), on a tiny reader trained here and slimmed
with `export_reader`.

Usage: python bench/bad_inputs.py [--group N ...] [--keep DIR] [--verbose]
"""
import argparse, contextlib, csv, gzip, io, json, os, re, shutil, signal, subprocess, sys, tempfile, time, traceback, warnings
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault('OMP_NUM_THREADS', '1')
import numpy as np
import torch
torch.set_num_threads(1)

GOOD = ('located error', 'counted skip', 'handled correctly')
LIMIT = ('documented limit',) # a known limit the docs state (listed separately)
BAD = ('vague error', 'traceback', 'silent wrong', 'data loss', 'hang')
TINY = {'hidden': 8, 'pool': 2}
BIN = Path(sys.executable).parent
ENV = {**os.environ, 'PYTHONPATH': str(ROOT) + os.pathsep + os.environ.get('PYTHONPATH', ''), 'OMP_NUM_THREADS': '1'}
ENV.pop('MRL_DEBUG', None)

@dataclass
class Case:
    group: int # the issue's group (1-10); 0: a case the notebooks already test
    name: str # what is tried
    fn: object # () -> (outcome, detail)
    owner: str|None = None # the branch that fixes it, when another helper's (its failures are expected until that merges)

CASES = []
def case(group, name):
    "Register a case: the function returns `(outcome, detail)`."
    def deco(fn): CASES.append(Case(group, name, fn)); return fn
    return deco

class Outcome(Exception):
    "Raised by checks inside a case to give its outcome."
    def __init__(self, outcome, detail=''): self.outcome, self.detail = outcome, detail

def one_line(s, n=110):
    s = ' '.join(str(s).split())
    return s if len(s) <= n else s[:n-1] + '…'

def deliberate(e:BaseException) -> bool:
    "Whether `e` was raised on purpose by mrl (its last frame is a `raise` line in mrl/) or is an OS error naming a file."
    tb = traceback.extract_tb(e.__traceback__)
    if isinstance(e, OSError) and e.filename is not None: return True
    return bool(tb) and str(ROOT/'mrl') in tb[-1].filename and 'raise' in (tb[-1].line or '')

def expect_error(f, *places):
    "`located error` when `f()` raises an error on purpose whose message names every one of `places`; raw errors are tracebacks."
    try: res = f()
    except Exception as e:
        msg = f"{type(e).__name__}: {e}"
        if not deliberate(e): return 'traceback', msg
        return ('located error' if all(p in str(e) for p in places) else 'vague error'), msg
    return 'silent wrong', f"accepted: {one_line(repr(res), 80)}"

def worst(outs:list) -> tuple:
    "The first of several `(outcome, detail)` that is not a located error (else the last): one case, several inputs."
    return next((o for o in outs if o[0] != 'located error'), outs[-1])

def cli_cmd(tool, *args) -> list:
    "The command line running console command `tool` on this checkout (its installed script, else through `run_command`)."
    script = BIN/tool
    if script.exists(): return [sys.executable, str(script), *map(str, args)]
    return [sys.executable, '-c', f"import sys; from mrl.core import run_command; from mrl.training import {tool}; sys.exit(run_command({tool}, sys.argv[1:]))", *map(str, args)]

def run_cli(tool, *args, timeout=240, cwd=None):
    "`(returncode, stdout, stderr)` of a console command run as a subprocess on this checkout."
    cmd = cli_cmd(tool, *args)
    try: r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=ENV, cwd=cwd)
    except subprocess.TimeoutExpired: return None, '', f'timed out after {timeout} s'
    return r.returncode, r.stdout, r.stderr

def classify_cli(rc, out, err, tool, *places, ok=None):
    "Outcome of a command: traceback, located error (status 2, `tool: error:` naming `places`), or `ok(out, err)` when it succeeded."
    if rc is None: return 'hang', err
    if 'Traceback (most recent call last)' in err: return 'traceback', err.strip().splitlines()[-1]
    last = err.strip().splitlines()[-1] if err.strip() else ''
    if rc == 2 and last.startswith(f'{tool}: error:'): return ('located error' if all(p in last for p in places) else 'vague error'), last
    if rc == 0 and ok is not None: return ok(out, err)
    return ('silent wrong' if rc == 0 else 'vague error'), f"exit {rc}: {one_line(last or out.strip()[-200:])}"

def run_inproc(tool, *args):
    "`(returncode, stdout, stderr)` of a console command of mrl.training run in this process (through `mrl.core.run_command`)."
    import mrl.training as T
    from mrl.core import run_command
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try: rc = run_command(getattr(T, tool), [str(a) for a in args])
        except Exception: traceback.print_exc(); rc = 1
    return rc, out.getvalue(), err.getvalue()

# ---------------------------------------------------------------------------------------------------------- fixtures
W = Path(tempfile.mkdtemp(prefix='mrl-bad-inputs-'))
SAMPLE = ROOT/'mrl'/'data'/'squad-sample.json'
def sample_json(): return json.loads(SAMPLE.read_text())
def write_json(name, o, raw=None):
    p = W/name; p.write_bytes(raw if raw is not None else json.dumps(o).encode()); return p
def squad(qas, context='Paris is in France.', title='T'):
    return {'version': '1.1', 'data': [{'title': title, 'paragraphs': [{'context': context, 'qas': qas}]}]}

_TRAINED = {}
def trained_run():
    "A tiny run on the bundled sample (2 epochs, uninterrupted): the reference of the kill -9 case and the checkpoint of prediction cases."
    if 'ref' not in _TRAINED:
        out = W/'ref'
        rc, o, e = run_cli('mrl_train_qa', '--model_config', json.dumps(TINY), '--epochs', 2, '--out', out, '--no-progress')
        if rc != 0: raise RuntimeError(f"reference training failed: {e[-500:]}")
        _TRAINED['ref'] = out
    return _TRAINED['ref']

# ------------------------------------------------------------------------------------- group 1: NaN guard, divergence
def _finite_checkpoints(folder):
    from safetensors.torch import load_file
    bad = [p.name for p in Path(folder).glob('*.safetensors')
           if any(t.is_floating_point() and not torch.isfinite(t).all() for t in load_file(p).values())]
    return bad

def _diverge_case(name, place, *args):
    out = W/name
    rc, o, e = run_cli('mrl_train_qa', '--model_config', json.dumps(TINY), '--epochs', 2, '--out', out, '--no-progress', *args)
    bad = _finite_checkpoints(out) if out.exists() else []
    if bad: return 'silent wrong', f"non-finite weights in {bad}"
    if rc == 0: return 'silent wrong', f"exit 0: {one_line(o.strip().splitlines()[-1] if o.strip() else '')}"
    if 'good' in e and 'intact' in e: return 'silent wrong', 'calls a checkpoint good/intact'
    return classify_cli(rc, o, e, 'mrl_train_qa', place)

@case(1, "--lr inf")
def _(): return _diverge_case('lr_inf', 'lr', '--lr', 'inf')
@case(1, "--lr nan")
def _(): return _diverge_case('lr_nan', 'lr', '--lr', 'nan')
@case(1, "--lr 1e30 --clip 0 (weights blow up on step 1)")
def _(): return _diverge_case('lr_1e30', 'diverged', '--lr', '1e30', '--clip', '0')
@case(1, "--lr 1e6 (finite loss explodes to ~1e20)")
def _(): return _diverge_case('lr_1e6', 'diverged', '--lr', '1e6')

@case(1, "save_checkpoint of NaN weights")
def _():
    from mrl.training import save_checkpoint
    net = torch.nn.Linear(2, 2)
    with torch.no_grad(): net.weight[0, 0] = float('nan')
    r = expect_error(lambda: save_checkpoint(W/'nan.safetensors', net), 'Refusing', 'weight')
    return ('silent wrong', 'a NaN checkpoint was written') if (W/'nan.safetensors').exists() else r

# ----------------------------------------------------------------------------------- group 2: training without validation
@case(2, "mrl_train_qa on one article")
def _():
    d = sample_json(); d['data'] = d['data'][:1]; p = write_json('one.json', d)
    rc, o, e = run_inproc('mrl_train_qa', '--train', p, '--epochs', 1, '--model_config', json.dumps(TINY), '--out', W/'one', '--no-progress')
    ok = lambda o, e: ('handled correctly', one_line(o.strip().splitlines()[-1])) if ('no validation data' in o and 'f1' not in o and (W/'one'/'best.safetensors').exists()) else ('silent wrong', one_line(o[-200:]))
    return classify_cli(rc, o, e, 'mrl_train_qa', ok=ok)

@case(2, "mrl_train_qa --valid_pct 0")
def _():
    d = sample_json(); d['data'] = d['data'][:2]; p = write_json('two.json', d)
    rc, o, e = run_inproc('mrl_train_qa', '--train', p, '--valid_pct', 0, '--epochs', 1, '--model_config', json.dumps(TINY), '--out', W/'vp0', '--no-progress')
    ok = lambda o, e: ('handled correctly', one_line(o.strip().splitlines()[-1])) if 'no validation data' in o and 'exact_match' not in o else ('silent wrong', one_line(o[-200:]))
    return classify_cli(rc, o, e, 'mrl_train_qa', ok=ok)

@case(2, "--patience 2 without validation data")
def _():
    rc, o, e = run_inproc('mrl_train_qa', '--train', W/'one.json', '--patience', 2, '--out', W/'pat', '--no-progress')
    return classify_cli(rc, o, e, 'mrl_train_qa', '--patience')

# ------------------------------------------------------------------------------ group 3: nothing dropped without a word
MESSY = squad([{'id': 'ok', 'question': 'Where?', 'answers': [{'text': 'France', 'answer_start': 12}]},
               {'id': 'empty', 'question': 'What?', 'answers': []},
               {'id': 'absent', 'question': 'Which?', 'answers': [{'text': 'Berlin', 'answer_start': 0}]},
               {'id': 'typed', 'question': 'Who?', 'answers': [{'text': 5, 'answer_start': 'x'}]},
               {'id': 'none', 'question': 'How?'}])

@case(3, "mrl_predict_qa: questions with bad or missing answers")
def _():
    p = write_json('messy.json', MESSY); ck = trained_run()/'best.safetensors'
    rc, o, e = run_inproc('mrl_predict_qa', p, '--checkpoint', ck, '--out', W/'messy.csv', '--no-progress')
    def ok(o, e):
        from mrl.training import load_predictions
        got = load_predictions(W/'messy.csv')
        return ('handled correctly', f"{len(got)} of 5 answered; {one_line(e.strip().splitlines()[-1])}") if len(got) == 5 else ('silent wrong', f"{len(got)} of 5 answered")
    return classify_cli(rc, o, e, 'mrl_predict_qa', ok=ok)

def _in_last_window(answer:str, words:list, n:int=300) -> bool:
    "Whether `answer` (a run of the `w<i>` words) lies in the last `n` words, the only window that holds the question's word."
    toks = answer.split()
    return bool(toks) and all(t in words[-n:] for t in toks)

@case(3, "mrl_predict_qa: a context of 10,050 tokens (no cut: read in windows)")
def _():
    words = [f'w{i}' for i in range(10_050)]; text = ' '.join(words)
    p = write_json('long.json', squad([{'id': 'long', 'question': 'Which word follows w10040?', 'answers': [{'text': 'w10041', 'answer_start': text.index('w10041 ')}]}], context=text))
    rc, o, e = run_inproc('mrl_predict_qa', p, '--checkpoint', trained_run()/'best.safetensors', '--out', W/'long.json.out.json', '--top_k', 1, '--no-progress')   # the best passage by BM25 only
    def ok(o, e):
        got = json.loads((W/'long.json.out.json').read_text())['long']
        return ('handled correctly', f"answered {got!r}, from the window at the end that holds the question's word") if _in_last_window(got, words) else ('silent wrong', f"answered {got!r}: the end of the text was not read")
    return classify_cli(rc, o, e, 'mrl_predict_qa', ok=ok)

@case(3, "training: answers beyond 600 tokens dropped, question count after drops")
def _():
    ctx = ' '.join(f'w{i}' for i in range(700))
    qas = [{'id': f'q{i}', 'question': f'Which {i}?', 'answers': [{'text': f'w{k}', 'answer_start': ctx.index(f'w{k} ')}]} for i, k in enumerate([5, 650, 20, 690])]
    p = write_json('beyond.json', squad(qas, context=ctx))
    rc, o, e = run_inproc('mrl_train_qa', '--train', p, '--epochs', 1, '--model_config', json.dumps(TINY), '--out', W/'beyond', '--no-progress')
    ok = lambda o, e: ('counted skip', one_line(o.strip().splitlines()[0])) if o.startswith('train: 2 questions') and '(2 dropped' in o.strip().splitlines()[0] else ('silent wrong', one_line(o.strip().splitlines()[0]))
    return classify_cli(rc, o, e, 'mrl_train_qa', ok=ok)

@case(3, "read_squad: an article whose paragraphs is an object (its questions lost)")
def _():
    from mrl.squad import read_squad
    d = {'version': '1.1', 'data': [{'title': 'A', 'paragraphs': {'context': 'x y', 'qas': [{'id': 'a1', 'question': 'q?', 'answers': [{'text': 'x', 'answer_start': 0}]}, {'id': 'a2', 'question': 'q?', 'answers': [{'text': 'y', 'answer_start': 2}]}]}},
                                    {'title': 'B', 'paragraphs': [{'context': 'Paris is in France.', 'qas': [{'id': 'b1', 'question': 'Where?', 'answers': [{'text': 'France', 'answer_start': 12}]}]}]}]}
    sq = read_squad(d, source='lost.json'); rep = sq.report(3).splitlines()[0]
    return ('counted skip', rep) if len(sq.lost_qids) == 2 and '2 of 3 questions lost' in rep else ('silent wrong', one_line(rep))

@case(3, "Japanese text without spaces (answer reachable)")
def _():
    from mrl.squad import tokenize_with_offsets, char_to_token_span
    ctx = '東京は日本の首都です。'; toks, offs = tokenize_with_offsets(ctx)[:2]
    s = ctx.index('日本'); sp = char_to_token_span(offs, s, s + 2)
    return ('handled correctly', f"{len(toks)} tokens; '日本' -> {sp}") if sp is not None and len(toks) > 1 else ('silent wrong', f"{len(toks)} token(s): {toks[:3]}; '日本' -> {sp}")

# -------------------------------------------------------------------------------------------------- group 4: SMILES
# [cN]: case N of the SMILES/vocabulary case list of issue 14 items 4 and 9 (1-25: SMILES and CSV input, 26-46: vocabulary
# files, 47-59: SMILES datasets and loaders); the notebooks 00a_chem, 01_dataloaders and 01a_smiles test each one too.
MOLS = ['CCO', 'c1ccccc1', 'Cc1ccccc1', 'CCc1ccccc1', 'C1CCCCC1', 'OC1CCCCC1', 'c1ccncc1', 'Cc1ccncc1', 'CCN', 'CCCC', 'O=C=O',
        'CC(=O)O', 'c1ccc2ccccc2c1', 'Oc1ccc2ccccc2c1', 'C1CCNCC1', 'CC1CCNCC1', 'c1ccoc1', 'c1ccsc1', 'CCOC', 'CNC']

def _rv():
    from mrl.smiles import RegexVocab, SMILES_CHAR_VOCAB
    return RegexVocab(SMILES_CHAR_VOCAB)

def expect_error_at(f, where, *places):
    "`expect_error`, and `silent wrong` when the message names a line other than `where` (a wrong place misleads)."
    r = expect_error(f, where, *places)
    return ('silent wrong', 'wrong line: ' + r[1]) if r[0] == 'vague error' and 'line' in r[1] and where not in r[1] else r

def _featurized(smiles, failed):
    "`counted skip` when `featurize(smiles)` lists exactly the inputs at `failed` as failed and fingerprints the rest."
    from mrl.chem import featurize
    r = featurize(smiles, progress=False)
    ok = list(r.failed_idxs) == failed and r.failed_smiles == [smiles[i] for i in failed] and r.X.shape[0] == len(smiles) - len(failed)
    return ('counted skip', f"failed_idxs {list(r.failed_idxs)}, {r.X.shape[0]} fingerprinted") if ok else ('silent wrong', f"failed_idxs {list(r.failed_idxs)}, {r.X.shape[0]} rows")

@case(4, "[c1] featurize(['CCO c1ccccc1']) (whitespace inside a SMILES)")
def _(): return _featurized(['CCO c1ccccc1'], [0])
@case(4, "[c2] featurize(['CC\\tO', 'CCO']) (a tab inside a SMILES)")
def _(): return _featurized(['CC\tO', 'CCO'], [0])
@case(4, "[c3] featurize(['CCO', None, 3.5])")
def _(): return _featurized(['CCO', None, 3.5], [1, 2])

@case(4, "[c4] featurize('CCO') (one string)")
def _():
    from mrl.chem import featurize
    try: r = featurize('CCO', progress=False)
    except (ValueError, TypeError) as e: return ('located error', str(e)) if 'string' in str(e) else ('vague error', str(e))
    return ('handled correctly', f"one molecule: X {r.X.shape}") if r.X.shape == (1, 2048) else ('silent wrong', f"X {r.X.shape}")

@case(4, "[c5] featurize(['CCO'], nbits=0 / -5 / 2.5 / True)")
def _():
    from mrl.chem import featurize
    return worst([expect_error(lambda v=v: featurize(['CCO'], nbits=v, progress=False), 'nbits', f'got {v!r}') for v in (0, -5, 2.5, True)])
@case(4, "[c6] featurize(['CCO'], chunksize=0)")
def _():
    from mrl.chem import featurize
    return expect_error(lambda: featurize(['CCO'], chunksize=0, progress=False), 'chunksize', 'got 0')
@case(4, "[c7] featurize(['CCO'], n_workers=-3)")
def _():
    from mrl.chem import featurize
    return expect_error(lambda: featurize(['CCO'], n_workers=-3, progress=False), 'n_workers', 'got -3')
@case(4, "[c8] featurize(['CCO'], kind='ECFP8')")
def _():
    from mrl.chem import featurize
    return expect_error(lambda: featurize(['CCO'], kind='ECFP8', progress=False), "'ECFP8'", 'ECFP6')
@case(4, "[c9] featurize(5) (not a list)")
def _():
    from mrl.chem import featurize
    return expect_error(lambda: featurize(5, progress=False), 'list of SMILES', 'int 5')
@case(4, "[c10] ECFP4('CCO', nbits=0); morgan_generator(-1)")
def _():
    from mrl.chem import ECFP4, morgan_generator
    return worst([expect_error(lambda: ECFP4('CCO', nbits=0), 'nbits', 'got 0'), expect_error(lambda: morgan_generator(-1), 'radius', 'got -1')])
@case(4, "[c11] tpsa / molwt / ECFP6 of 'CCO c1ccccc1'")
def _():
    from mrl.chem import tpsa, molwt, ECFP6
    return worst([expect_error(lambda f=f: f('CCO c1ccccc1'), "'CCO c1ccccc1'", 'whitespace') for f in (tpsa, molwt, ECFP6)])

@case(4, "[c12] split_by_scaffold(['CCO', 'C1CC', 'CCO x'], 0.3)")
def _():
    from mrl.chem import split_by_scaffold
    try: sp = split_by_scaffold(['CCO', 'C1CC', 'CCO x'], 0.3)
    except ValueError as e:                                                # one readable molecule cannot make a validation part
        return ('located error' if "1 'C1CC', 2 'CCO x'" in str(e) else 'vague error'), one_line(str(e))
    parts = sorted(np.concatenate([sp.train_idxs, sp.valid_idxs, sp.test_idxs]).tolist())
    ok = parts == [0] and sp.failed_idxs == [1, 2] and sp.failed_smiles == ['C1CC', 'CCO x']
    return ('counted skip' if ok else 'silent wrong'), f"parts hold {parts}; {sp!r}"
@case(4, "[c13] split_by_scaffold(smiles, 1.2) / (smiles, 0.6, 0.5)")
def _():
    from mrl.chem import split_by_scaffold
    return worst([expect_error(lambda: split_by_scaffold(MOLS, 1.2), 'percent_valid', '1.2'),
                  expect_error(lambda: split_by_scaffold(MOLS, 0.6, 0.5), 'percent_valid + percent_test', 'below 1')])

def _csv(name, raw):
    "A CSV file of the read_smiles_csv cases."
    p = W/name; p.write_bytes(raw.encode() if isinstance(raw, str) else raw); return p

def _read_csv(name, raw, **kw):
    from mrl.smiles import read_smiles_csv
    p = _csv(name, raw); return lambda: read_smiles_csv(p, **kw)

@case(4, "[c14] read_smiles_csv: 'high' in y after a blank line and a two-line quoted field (line 7)")
def _(): return expect_error_at(_read_csv('c14.csv', 'SMILES,name,y\nCC,ethane,1\n\nCO,"methanol,\nwood alcohol",2\nCCO,ethanol,3\nCCN,ethylamine,high\n', y_cols='y'),
                                'line 7', 'c14.csv', "column 'y'", 'not a number', "'high'")
@case(4, "[c15] read_smiles_csv: an empty y after two blank lines (line 5)")
def _(): return expect_error_at(_read_csv('c15.csv', 'SMILES,y\nCC,1\n\n\nCO,\n', y_cols='y'), 'line 5', 'c15.csv', "column 'y'", 'no value')
@case(4, "[c16] read_smiles_csv: y values inf and 1e99 (too large for float32)")
def _(): return expect_error_at(_read_csv('c16.csv', 'SMILES,y\nCC,inf\nCO,1e99\n', y_cols='y'), 'lines [2, 3]', 'c16.csv', "column 'y'", 'float32')
@case(4, "[c17] read_smiles_csv: an empty file")
def _(): return expect_error(_read_csv('c17.csv', b''), 'c17.csv', 'empty')
@case(4, "[c18] read_smiles_csv: the header only")
def _(): return expect_error(_read_csv('c18.csv', 'SMILES,y\n', y_cols='y'), 'c18.csv', 'no rows')
@case(4, "[c19] read_smiles_csv: Latin-1 text")
def _(): return expect_error_at(_read_csv('c19.csv', 'SMILES,name\nCC,éthane\n'.encode('latin-1')), 'line 2', 'c19.csv', 'UTF-8', 'column 4')
@case(4, "[c20] read_smiles_csv: a ragged row (3 fields, line 3)")
def _(): return expect_error_at(_read_csv('c20.csv', 'SMILES,y\nCC,1\nCO,2,3\n'), 'line 3', 'c20.csv', 'well-formed')
@case(4, "[c21] read_smiles_csv: a truncated gzip file")
def _(): return expect_error(_read_csv('c21.csv.gz', gzip.compress(b'SMILES\nCC\n')[:15]), 'c21.csv.gz', 'gzip')
@case(4, "[c22] read_smiles_csv: no SMILES column (smi)")
def _(): return expect_error(_read_csv('c22.csv', 'smi\nCC\n'), 'c22.csv', "['SMILES']", "['smi']")
@case(4, "[c23] read_smiles_csv: an empty SMILES cell (line 3)")
def _(): return expect_error_at(_read_csv('c23.csv', 'SMILES,y\nCC,1\n,2\nCO,3', y_cols='y'), 'line 3', 'c23.csv', 'empty SMILES')

@case(4, "read_smiles_csv: an empty SMILES after a blank and a quoted multi-line row (line 6)")
def _(): return expect_error_at(_read_csv('lines.csv', b'SMILES,y\nCCO,1\n\n"CC\nO",2\n,3\n', y_cols='y'), 'line 6', 'lines.csv')

@case(4, "[c24] read_smiles_csv: a SMILES cell 'NA' (kept as text, then fails in featurize)")
def _():
    from mrl.chem import featurize
    smiles, _ = _read_csv('c24.csv', 'SMILES\nCC\nNA\n')()
    r = featurize(smiles, progress=False)
    ok = smiles == ['CC', 'NA'] and r.failed_idxs == [1]
    return ('handled correctly' if ok else 'silent wrong'), f"read {smiles}; featurize failed_idxs {r.failed_idxs}"
@case(4, "[c25] read_smiles_csv: a folder / a missing file")
def _():
    from mrl.smiles import read_smiles_csv
    (W/'c25').mkdir(exist_ok=True)
    return worst([expect_error(lambda: read_smiles_csv(W/'c25'), 'c25', 'directory'), expect_error(lambda: read_smiles_csv(W/'c25.csv'), 'c25.csv', 'No such')])

@case(4, "[c47] TextDataset(['CC', None], vocab)")
def _():
    from mrl.smiles import TextDataset
    return expect_error(lambda: TextDataset(['CC', None], _rv()), 'index 1', 'None')
@case(4, "[c48] TextDataset.new(['CC', '', 'CO', '']) (empty SMILES kept as bos eos, counted)")
def _():
    from mrl.smiles import TextDataset
    ds = TextDataset(MOLS, _rv()).new(['CC', '', 'CO', ''])
    ok = ds[1].tolist() == [0, 1] and ds.empty_idxs == [1, 3] and '2 empty' in repr(ds)
    return ('handled correctly' if ok else 'silent wrong'), f"item 1 {ds[1].tolist()}, empty_idxs {ds.empty_idxs}; {ds!r}"
@case(4, "[c49] TextDataset(['CCO', 'C1CC'], augment=True)[1] (does not parse)")
def _():
    from mrl.smiles import TextDataset
    rv = _rv()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); ds = TextDataset(['CCO', 'C1CC'], rv, augment=True, seed=0); x = ds[1]
    said = [str(m.message) for m in w]
    ok = x.tolist() == rv.encode('C1CC') and ds.n_unaugmented == 1 and len(said) == 1 and '1' in said[0] and 'C1CC' in said[0]
    return ('counted skip' if ok else 'silent wrong'), f"n_unaugmented {ds.n_unaugmented}; warnings {said}"
@case(4, "[c50] TextPredictionDataset y: 'high' / None / NaN / 2 SMILES, 1 value")
def _():
    from mrl.smiles import TextPredictionDataset
    rv = _rv(); two = MOLS[:2]
    return worst([expect_error(lambda: TextPredictionDataset(two, [1., 'high'], rv), 'index 1', "'high'"),
                  expect_error(lambda: TextPredictionDataset(two, [1., None], rv), 'index 1', 'None'),
                  expect_error(lambda: TextPredictionDataset(two, [1., float('nan')], rv), 'indices [1]', 'NaN'),
                  expect_error(lambda: TextPredictionDataset(two, [1.], rv), '2 SMILES but 1')])
@case(4, "[c51] dataloader(sampler=..., shuffle=True) / (sampler=..., num_replicas=2)")
def _():
    from mrl.smiles import TextDataset
    ds = TextDataset(MOLS, _rv())
    return worst([expect_error(lambda: ds.dataloader(8, sampler=range(len(ds)), shuffle=True), 'sampler', 'shuffle=True'),
                  expect_error(lambda: ds.dataloader(8, sampler=range(len(ds)), num_replicas=2), 'sampler', 'num_replicas=2')])
@case(4, "[c52] TextPredictionDataset(... + ['C1CC']).split_by_scaffold(0.1, 0.1)")
def _():
    from mrl.smiles import TextPredictionDataset
    smiles = MOLS + ['C1CC']; n = len(smiles)
    ds = TextPredictionDataset(smiles, np.arange(n, dtype=np.float32), _rv())
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); parts = ds.split_by_scaffold(0.1, 0.1)
    held = sorted(s for p in parts for s in p.smiles)
    said = ' '.join(str(m.message) for m in w)
    ok = held == sorted(MOLS) and f'indices [{n-1}]' in said and 'C1CC' in said
    return ('counted skip' if ok else 'silent wrong'), f"{[len(p) for p in parts]} in the parts; {one_line(said, 90)}"
@case(4, "[c53] SelfiesVocab.encode_batch(['CC', 'C1CC'])")
def _():
    from mrl.smiles import SelfiesVocab, SELFIES_VOCAB
    return expect_error(lambda: SelfiesVocab(SELFIES_VOCAB).encode_batch(['CC', 'C1CC']), 'index 1', "'C1CC'")
@case(4, "[c54] tokenize_by_kmer('ACGT', 0) / KmerVocab(DNA_TRIMERS, 0)")
def _():
    from mrl.smiles import tokenize_by_kmer, KmerVocab, DNA_TRIMERS
    return worst([expect_error(lambda: tokenize_by_kmer('ACGT', 0), 'kmer', 'got 0'), expect_error(lambda: KmerVocab(DNA_TRIMERS, 0), 'kmer', 'got 0')])
@case(4, "[c55] KmerVocab(DNA_TRIMERS, 3).encode_batch(['ACG', None])")
def _():
    from mrl.smiles import KmerVocab, DNA_TRIMERS
    return expect_error(lambda: KmerVocab(DNA_TRIMERS, 3).encode_batch(['ACG', None]), 'index 1', 'None')
@case(4, "[c56] pad_vocab(['C'], 0)")
def _():
    from mrl.smiles import pad_vocab
    return expect_error(lambda: pad_vocab(['C'], 0), 'multiple', 'got 0')
@case(4, "[c57] Vocab('CNO') / Vocab(prefunc='lower') / FuncVocab(tok_func='split') / CharacterReplaceVocab(replace_dict=['Br'])")
def _():
    from mrl.dataloaders import Vocab
    from mrl.smiles import FuncVocab, CharacterReplaceVocab
    return worst([expect_error(lambda: Vocab('CNO'), 'itos', "'CNO'"), expect_error(lambda: Vocab(['C'], prefunc='lower'), 'prefunc', "'lower'"),
                  expect_error(lambda: FuncVocab(['A'], 'split'), 'tok_func', "'split'"), expect_error(lambda: CharacterReplaceVocab(['C'], ['Br']), 'replace_dict', 'list')])
@case(4, "[c58] check_texts(None) / encode_batch(None)")
def _():
    from mrl.dataloaders import check_texts
    return worst([expect_error(lambda: check_texts(None), 'list', 'NoneType'), expect_error(lambda: _rv().encode_batch(None), 'list', 'NoneType')])
@case(4, "[c59] vocabulary grown after the dataset was built (ids re-encoded)")
def _():
    from mrl.smiles import CharacterVocab, TextDataset
    v = CharacterVocab(['C']); ds = TextDataset(MOLS, v); stale = ds[5].tolist()
    v.update_vocab_from_data(MOLS)
    ok = ds[5].tolist() == v.encode(MOLS[5]) and v.unk_idx not in ds[5].tolist()
    return ('handled correctly' if ok else 'silent wrong'), f"{MOLS[5]!r}: {stale} before, {ds[5].tolist()} after update_vocab_from_data"

# ---------------------------------------------------------------------------------------- group 5: checkpoints
def _ck_bytes():
    return (trained_run()/'last.safetensors').read_bytes()

def _tamper(name, old, new):
    raw = _ck_bytes(); assert old in raw, old
    p = W/name; p.write_bytes(raw.replace(old, new, 1)); return p

@case(5, "checkpoint: a vocabulary token edited in the header")
def _():
    from mrl.training import load_reader
    raw = _ck_bytes(); i = raw.index(b'itos'); j = raw.index(b'the', i)
    p = W/'vocab_edit.safetensors'; p.write_bytes(raw[:j] + b'tha' + raw[j+3:])
    return expect_error(lambda: load_reader(p, 'cpu'), 'vocab_edit.safetensors', 'digest')

@case(5, "checkpoint: model configuration edited in the header (iterations 4 -> 3)")
def _():
    from mrl.training import load_reader
    return expect_error(lambda: load_reader(_tamper('cfg_edit.safetensors', b'"iterations\\":4', b'"iterations\\":3'), 'cpu'), 'cfg_edit.safetensors', 'digest')

def _forge(name, edit):
    "A checkpoint edited with its digest recomputed (a forger's work): field checks must still name the field."
    from safetensors.torch import save_file
    import mrl.checkpoints as C
    raw, tensors = C._read_safetensors(trained_run()/'last.safetensors'); h = json.loads(raw); h.pop('sha256'); edit(h)
    h['sha256'] = C._digest(tensors, C.canonical_json(h)); p = W/name
    save_file(tensors, p, metadata={'mrl': json.dumps(h)}); return p

@case(5, "checkpoint (digest recomputed): model_config.hidden = '8'")
def _():
    from mrl.training import load_reader
    return expect_error(lambda: load_reader(_forge('forge1.safetensors', lambda h: h['meta']['model_config'].update(hidden='8')), 'cpu'), 'meta.model_config', 'hidden')

@case(5, "checkpoint (digest recomputed): vocabulary without 'itos'")
def _():
    from mrl.training import load_reader
    return expect_error(lambda: load_reader(_forge('forge2.safetensors', lambda h: h['meta']['vocab'].pop('itos')), 'cpu'), 'meta.vocab', 'itos')

@case(5, "checkpoint (digest recomputed): epoch = 'two', then --resume")
def _():
    p = _forge('forge3.safetensors', lambda h: h['meta'].update(epoch='two'))
    d = W/'forge3'; d.mkdir(exist_ok=True); shutil.copy(p, d/'last.safetensors')
    rc, o, e = run_inproc('mrl_train_qa', '--resume', '--out', d, '--model_config', json.dumps(TINY), '--no-progress')
    return classify_cli(rc, o, e, 'mrl_train_qa', 'meta.epoch')

@case(5, "checkpoint: truncated")
def _():
    from mrl.training import load_checkpoint
    p = W/'trunc.safetensors'; p.write_bytes(_ck_bytes()[:-100])
    return expect_error(lambda: load_checkpoint(p), 'trunc.safetensors', 'truncated')

@case(5, "checkpoint: one tensor byte flipped")
def _():
    from mrl.training import load_checkpoint
    raw = bytearray(_ck_bytes()); raw[-5] ^= 0xFF; p = W/'flip.safetensors'; p.write_bytes(bytes(raw))
    return expect_error(lambda: load_checkpoint(p), 'flip.safetensors', 'digest')

@case(5, "checkpoint: a foreign safetensors file / not a file at all")
def _():
    from safetensors.torch import save_file
    from mrl.training import load_checkpoint
    save_file({'w': torch.zeros(2)}, W/'foreign.safetensors')
    r1 = expect_error(lambda: load_checkpoint(W/'foreign.safetensors'), 'foreign.safetensors', 'not an mrl checkpoint')
    (W/'text.safetensors').write_text('hello')
    r2 = expect_error(lambda: load_checkpoint(W/'text.safetensors'), 'text.safetensors')
    return (r1 if r1[0] != 'located error' else r2)

@case(5, "checkpoint of the first layout (digest over tensors only)")
def _():
    from mrl.training import load_reader
    import mrl.checkpoints as C
    from safetensors.torch import save_file
    raw, tensors = C._read_safetensors(trained_run()/'last.safetensors'); h = json.loads(raw); h.pop('sha256'); h['format'] = 'mrl-checkpoint/1'
    h['sha256'] = C._digest(tensors, None); save_file(tensors, W/'v1.safetensors', metadata={'mrl': json.dumps(h)})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always'); load_reader(W/'v1.safetensors', 'cpu')
    return ('handled correctly', 'read with a warning: ' + one_line(w[0].message, 70)) if w else ('silent wrong', 'no warning')

# ----------------------------------------------------------------------------------------------- group 6: command line
TRAIN_OPTION_CASES = [(['--epochs', '-1'], 'epochs'), (['--bs', '0'], 'bs'), (['--lr', '-1'], 'lr'), (['--warmup', '1.5'], 'warmup'),
                      (['--device', 'gpu'], 'gpu'), (['--device', 'tpu'], 'tpu'),
                      (['--model_config', '{"hiden": 8}'], 'hiden'), (['--model_config', '{"hidden": "8"}'], 'hidden'),
                      (['--model_config', 'hidden=8'], '--model_config'), (['--model_config', '{"vocab_size": 5}'], 'vocab_size'),
                      (['--train', 'missing.json'], 'missing.json'), (['--glove', 'missing.txt'], 'missing.txt'),
                      (['--valid_pct', '1.5'], 'valid_pct'), (['--opt', 'sgd'], 'sgd'), (['--schedule', 'step'], 'step'),
                      (['--max_context_len', '0'], 'max_context_len'), (['--resume'], '--resume'), (['--threads', '-2'], 'threads'),
                      (['--out', '__FILE__'], '--out'), (['--out', '__FILE__/run'], '--out'), (['--epochs', 'two'], '--epochs')]
for _args, _place in TRAIN_OPTION_CASES:
    def _mk(args=_args, place=_place):
        def f():
            (W/'a_file').write_text('x')
            args_ = [str(W/'a_file') + a[8:] if a.startswith('__FILE__') else a for a in args]
            out = [] if '--out' in args_ else ['--out', W/'opts']
            t = time.perf_counter()
            rc, o, e = run_inproc('mrl_train_qa', *args_, *out)
            r = classify_cli(rc, o, e, 'mrl_train_qa', place) if rc != 2 or 'usage:' not in e else (('located error' if place in e else 'vague error'), e.strip().splitlines()[-1])
            if time.perf_counter() - t > 5 and r[0] == 'located error': return 'vague error', 'checked only after reading data: ' + r[1]
            return r
        return f
    case(6, f"mrl_train_qa {' '.join(_args)}")(_mk())

EVAL_CASES = [('a top-level list', [1, 2], 'not a SQuAD file'), ("missing 'data'", {'version': '1.1'}, "'data'"),
              ('integer question ids', squad([{'id': 7, 'question': 'q', 'answers': [{'text': 'Paris', 'answer_start': 0}]}]), "question #0: id"),
              ("'answers' not a list", squad([{'id': 'a', 'question': 'q', 'answers': 'Paris'}]), "question 'a': answers"),
              ("an answer without 'text'", squad([{'id': 'a', 'question': 'q', 'answers': [{'answer_start': 0}]}]), "answers[0].text"),
              ("'paragraphs' missing", {'data': [{'title': 'T'}]}, "article 0 'T': paragraphs"),
              ('a duplicated question id', squad([{'id': 'a', 'question': 'q', 'answers': [{'text': 'P'}]}] * 2), 'twice')]
for _name, _content, _place in EVAL_CASES:
    def _mk(name=_name, content=_content, place=_place):
        def f():
            p = write_json(f'eval_{abs(hash(name))}.json', content); preds = write_json('preds_any.json', {'a': 'Paris'})
            return classify_cli(*run_inproc('mrl_eval_squad', p, preds), 'mrl_eval_squad', p.name, place)
        return f
    case(6, f"mrl_eval_squad: {_name}")(_mk())

@case(6, "mrl_eval_squad: predictions a JSON list / answers not strings / CSV with 3 fields")
def _():
    ref = write_json('ref.json', squad([{'id': 'a', 'question': 'q', 'answers': [{'text': 'Paris', 'answer_start': 0}]}]))
    outs = [classify_cli(*run_inproc('mrl_eval_squad', ref, write_json('pl.json', ['Paris'])), 'mrl_eval_squad', 'pl.json'),
            classify_cli(*run_inproc('mrl_eval_squad', ref, write_json('pn.json', {'a': 3})), 'mrl_eval_squad', "'a'"),
            classify_cli(*run_inproc('mrl_eval_squad', ref, write_json('p3.csv', None, b'Id,Answer\na,b,c\n')), 'mrl_eval_squad', 'line 2')]
    return worst(outs)

@case(6, "mrl_eval_squad (subprocess): a top-level list, exit status and no traceback")
def _():
    p = write_json('list.json', [1]); preds = write_json('preds_any.json', {'a': 'Paris'})
    return classify_cli(*run_cli('mrl_eval_squad', p, preds), 'mrl_eval_squad', 'list.json')

@case(6, "MRL_DEBUG=1 mrl_eval_squad on a top-level list (subprocess): the traceback is shown")
def _():
    p = write_json('list.json', [1]); preds = write_json('preds_any.json', {'a': 'Paris'})
    r = subprocess.run(cli_cmd('mrl_eval_squad', p, preds), capture_output=True, text=True, env={**ENV, 'MRL_DEBUG': '1'}, timeout=120)
    ok = r.returncode == 2 and 'Traceback' in r.stderr and r.stderr.strip().splitlines()[-1].startswith('mrl_eval_squad: error:')
    return ('handled correctly', 'traceback, then the error line; exit 2') if ok else ('silent wrong', f"exit {r.returncode}: {one_line(r.stderr[-200:])}")

@case(6, "mrl_predict_qa DATA: --checkpoint missing / a folder / --out .txt / no question / DATA missing")
def _():
    p = write_json('messy.json', MESSY); ck = trained_run()/'best.safetensors'
    outs = [classify_cli(*run_inproc('mrl_predict_qa', p, '--checkpoint', W/'nope.safetensors'), 'mrl_predict_qa', '--checkpoint', 'nope.safetensors'),
            classify_cli(*run_inproc('mrl_predict_qa', p, '--checkpoint', W), 'mrl_predict_qa', '--checkpoint', 'folder'),
            classify_cli(*run_inproc('mrl_predict_qa', p, '--checkpoint', ck, '--out', W/'x.txt'), 'mrl_predict_qa', '--out', '.txt'),
            classify_cli(*run_inproc('mrl_predict_qa', write_json('nq.json', {'data': []}), '--checkpoint', ck, '--out', W/'x.json'), 'mrl_predict_qa', 'nq.json', 'no question'),
            classify_cli(*run_inproc('mrl_predict_qa', W/'nope.json', '--checkpoint', ck, '--out', W/'x.json'), 'mrl_predict_qa', 'DATA', 'nope.json')]
    return worst(outs)

@case(6, "mrl_predict_qa CHECKPOINT DATA (the order before DATA came first)")
def _():
    p = write_json('messy.json', MESSY); ck = trained_run()/'best.safetensors'
    return classify_cli(*run_inproc('mrl_predict_qa', ck, p, '--out', W/'old_order.json'), 'mrl_predict_qa', 'messy.json')

@case(6, "mrl_predict_qa CHECKPOINT --checkpoint CHECKPOINT (a checkpoint given as DATA)")
def _():
    ck = trained_run()/'best.safetensors'
    return classify_cli(*run_inproc('mrl_predict_qa', ck, '--checkpoint', ck, '--out', W/'ck_as_data.json'), 'mrl_predict_qa', 'best.safetensors')

def _bundled_reader_absent() -> bool:
    from mrl.core import DATA_DIR
    from mrl.training import BUNDLED_READER
    return not (DATA_DIR/BUNDLED_READER).exists()

@case(6, "mrl_predict_qa DATA without --checkpoint (default: the bundled reader)")
def _():
    p = write_json('one_q.json', squad([{'id': 'a', 'question': 'Where?', 'answers': [{'text': 'France', 'answer_start': 12}]}]))
    r = classify_cli(*run_inproc('mrl_predict_qa', p, '--out', W/'bundled.json', '--no-progress'), 'mrl_predict_qa', 'bundled reader',
                     ok=lambda o, e: ('handled correctly', one_line(o.strip().splitlines()[0])))
    return (r[0], ('(no bundled reader in this checkout) ' if _bundled_reader_absent() else '') + r[1])

@case(6, "mrl_demo --n_show -1 (subprocess)")
def _():
    return classify_cli(*run_cli('mrl_demo', '--n_show', -1, timeout=120), 'mrl_demo', '--n_show', '-1')

@case(6, "mrl_demo --checkpoint missing / a folder / a text file")
def _():
    (W/'text.safetensors').write_text('hello')
    return worst([classify_cli(*run_inproc('mrl_demo', '--checkpoint', W/'nope.safetensors'), 'mrl_demo', '--checkpoint', 'nope.safetensors'),
                  classify_cli(*run_inproc('mrl_demo', '--checkpoint', W), 'mrl_demo', '--checkpoint', 'folder'),
                  classify_cli(*run_inproc('mrl_demo', '--checkpoint', W/'text.safetensors'), 'mrl_demo', 'text.safetensors')])

def tiny_reader_path() -> Path:
    "A slim copy (`export_reader`) of the tiny run's best checkpoint: the reader of the `mrl_ask` and `Reader` cases."
    if 'reader' not in _TRAINED:
        from mrl.training import export_reader
        _TRAINED['reader'] = export_reader(trained_run()/'best.safetensors', W/'reader.safetensors')
    return _TRAINED['reader']

ASK_CONTEXT = 'Paris is in France.'
LONG_CONTEXT = ' '.join(f'w{i}' for i in range(10_050)) + ' Paris'   # 10,051 tokens: 'Paris' lies at the end, beyond the 10,000 tokens read before issue 19
def _ask_files() -> dict:
    "The context files of the `mrl_ask` cases."
    files = {'latin1.txt': 'Paris est en Fran\xe7e.'.encode('latin-1'), 'empty.txt': b'', 'blank.txt': b' \n\t \n',
             'bom.txt': b'\xef\xbb\xbf' + ASK_CONTEXT.encode(), 'ctx.txt': ASK_CONTEXT.encode(), 'long.txt': LONG_CONTEXT.encode()}
    for name, raw in files.items(): (W/name).write_bytes(raw)
    (W/'text.safetensors').write_text('hello')
    return {k: W/k for k in files}

ASK_CASES = [("an empty question", lambda f: ['', '--context', ASK_CONTEXT], ['QUESTION', 'empty']),
             ("a question of spaces", lambda f: ['  \t', '--context', ASK_CONTEXT], ['QUESTION', 'empty']),
             ("neither --context nor --file", lambda f: ['Where?'], ['--context', '--file']),
             ("both --context and --file", lambda f: ['Where?', '--context', ASK_CONTEXT, '--file', f['ctx.txt']], ['--context', '--file']),
             ("--context ''", lambda f: ['Where?', '--context', ''], ['--context', 'empty']),
             ("--file missing", lambda f: ['Where?', '--file', W/'nope.txt'], ['--file', 'nope.txt']),
             ("--file a folder", lambda f: ['Where?', '--file', W], ['--file', 'folder']),
             ("--file in Latin-1", lambda f: ['Where?', '--file', f['latin1.txt']], ['latin1.txt', 'UTF-8', 'byte']),
             ("--file empty", lambda f: ['Where?', '--file', f['empty.txt']], ['empty.txt', 'empty']),
             ("--file of blank lines", lambda f: ['Where?', '--file', f['blank.txt']], ['blank.txt', 'empty']),
             ("--checkpoint missing", lambda f: ['Where?', '--context', ASK_CONTEXT, '--checkpoint', W/'nope.safetensors'], ['--checkpoint', 'nope.safetensors']),
             ("--checkpoint a folder", lambda f: ['Where?', '--context', ASK_CONTEXT, '--checkpoint', W], ['--checkpoint', 'folder']),
             ("--checkpoint a text file", lambda f: ['Where?', '--context', ASK_CONTEXT, '--checkpoint', W/'text.safetensors'], ['text.safetensors']),
             ("--device gpu0", lambda f: ['Where?', '--context', ASK_CONTEXT, '--device', 'gpu0'], ['gpu0'])]
for _name, _args, _places in ASK_CASES:
    def _mk(args=_args, places=_places):
        def f():
            a = args(_ask_files())
            extra = [] if '--checkpoint' in a else ['--checkpoint', tiny_reader_path()]
            return classify_cli(*run_inproc('mrl_ask', *a, *extra), 'mrl_ask', *places)
        return f
    case(6, f"mrl_ask: {_name}")(_mk())

def _ask_answer(o, e, context):
    "`handled correctly` when `mrl_ask` printed an answer whose characters are its text in `context`."
    import re
    m = re.match(r'(.*)\t\(score [0-9.]+, characters (\d+)–(\d+)\)$', o.rstrip('\n'), re.S)
    if not m: return 'silent wrong', f"unexpected output: {one_line(o)}"
    text, a, z = m[1], int(m[2]), int(m[3])
    return ('handled correctly', one_line(o)) if context[a:z] == text else ('silent wrong', f"characters {a}–{z} are {context[a:z]!r}, not {text!r}")

@case(6, "mrl_ask: --file with a UTF-8 BOM (offsets in the text without it)")
def _():
    f = _ask_files()
    rc, o, e = run_inproc('mrl_ask', 'Where is Paris?', '--file', f['bom.txt'], '--checkpoint', tiny_reader_path())
    return classify_cli(rc, o, e, 'mrl_ask', ok=lambda o, e: _ask_answer(o, e, ASK_CONTEXT))

@case(6, "mrl_ask: a text of 10,051 tokens (no cut: read in windows)")
def _():
    f = _ask_files()
    rc, o, e = run_inproc('mrl_ask', 'Where is Paris?', '--file', f['long.txt'], '--checkpoint', tiny_reader_path(), '--no-abstain', '--top_k', 1)
    def ok(o, e):
        m = re.search(r'characters (\d+)[–-](\d+)', o)
        start = int(m.group(1)) if m else -1
        return (('handled correctly', one_line(o)) if start >= LONG_CONTEXT.index('w9750 ') else ('silent wrong', 'the end of the text was not read: ' + one_line(o)))
    return classify_cli(rc, o, e, 'mrl_ask', ok=ok)

@case(6, "mrl_ask without --checkpoint (default: the bundled reader)")
def _():
    r = classify_cli(*run_inproc('mrl_ask', 'Where?', '--context', ASK_CONTEXT), 'mrl_ask', 'bundled reader',
                     ok=lambda o, e: _ask_answer(o, e, ASK_CONTEXT))
    return (r[0], ('(no bundled reader in this checkout) ' if _bundled_reader_absent() else '') + r[1])

# ------------------------------------------------------------------------------------------ group 7: one JSON reader
def _variants():
    d = squad([{'id': 'a', 'question': 'Where?', 'answers': [{'text': 'France', 'answer_start': 12}]}]); raw = json.dumps(d).encode()
    return {'BOM': write_json('bom.json', None, b'\xef\xbb\xbf' + raw), 'gzip named .json': write_json('gz.json', None, gzip.compress(raw)),
            'plain named .json.gz': write_json('plain.json.gz', None, raw)}

for _v in ('BOM', 'gzip named .json', 'plain named .json.gz'):
    def _mk(v=_v):
        def f():
            p = _variants()[v]; preds = write_json('pa.json', {'a': 'France'})
            rc, o, e = run_inproc('mrl_eval_squad', p, preds)
            r = classify_cli(rc, o, e, 'mrl_eval_squad', ok=lambda o, e: ('handled correctly', o.strip()) if json.loads(o)['f1'] == 100 else ('silent wrong', o))
            if r[0] != 'handled correctly': return r
            rc, o, e = run_inproc('mrl_predict_qa', p, '--checkpoint', trained_run()/'best.safetensors', '--out', W/'pv.json', '--no-progress')
            return classify_cli(rc, o, e, 'mrl_predict_qa', ok=lambda o, e: ('handled correctly', 'evaluated and predicted') if o.startswith('1 predictions') else ('silent wrong', o))
        return f
    case(7, f"a SQuAD file with {_v}: eval and predict")(_mk())

@case(7, "--model_config as a gzipped .json file with a BOM")
def _():
    from mrl.training import model_config_option
    p = write_json('mc.json', None, gzip.compress(b'\xef\xbb\xbf{"hidden": 8}'))
    got = model_config_option(str(p))
    return ('handled correctly', str(got)) if got == {'hidden': 8} else ('silent wrong', str(got))

@case(7, "mrl_train_qa --train a gzip file named .json with a BOM")
def _():
    d = sample_json(); d['data'] = d['data'][:1]
    p = write_json('train_gz.json', None, gzip.compress(b'\xef\xbb\xbf' + json.dumps(d).encode()))
    rc, o, e = run_inproc('mrl_train_qa', '--train', p, '--epochs', 1, '--model_config', json.dumps(TINY), '--out', W/'gzrun', '--no-progress')
    return classify_cli(rc, o, e, 'mrl_train_qa', ok=lambda o, e: ('handled correctly', one_line(o.splitlines()[0])))

# -------------------------------------------------------------------------------------------- group 8: predictions CSV
AWKWARD = {'cr': 'a\rb', 'lone': '\r', 'crlf': 'a\r\nb', 'na': 'NA', 'null': 'null', 'empty': '', 'formula': '=1+1', 'minus': '-40',
           'plus': '+1', 'at': '@sum', 'quote': "'quoted'", 'tab': '\tx', 'zeros': '007', 'comma': 'a, "b"'}

@case(8, "predictions CSV: \\r, NA, null, empty, formulas round-trip through load_predictions")
def _():
    from mrl.training import save_predictions, load_predictions
    back = load_predictions(save_predictions(AWKWARD, W/'awk.csv'))
    bad = [k for k in AWKWARD if back.get(k) != AWKWARD[k]]
    return ('handled correctly', f"{len(AWKWARD)} answers exact") if not bad else ('silent wrong', f"changed: {bad}")

@case(8, "predictions CSV: a spreadsheet sees no formula")
def _():
    with open(W/'awk.csv', newline='', encoding='utf-8') as f: rows = list(csv.reader(f))[1:]
    danger = [q for q, a in rows if a[:1] in ('=', '+', '-', '@', '\t', '\r')]
    return ('handled correctly', "formula-like answers start with '") if not danger else ('silent wrong', f"formulas: {danger}")

@case(8, "predictions CSV with pandas, read as documented (dtype=str, keep_default_na=False)")
def _():
    import pandas as pd
    df = pd.read_csv(W/'awk.csv', dtype=str, keep_default_na=False)
    back = dict(zip(df.Id, df.Answer.str.replace("^'", '', regex=True)))
    bad = [k for k in AWKWARD if back.get(k) != AWKWARD[k]]
    return ('handled correctly', 'exact') if not bad else ('silent wrong', f"changed: {bad}")

# ---------------------------------------------------------------------------------------------- group 9: vocabulary JSON
def _vocab_file(name, edit=None, vocab=None):
    "A vocabulary JSON file (a RegexVocab unless `vocab` is given), after `edit(dict)`."
    from mrl.smiles import RegexVocab
    d = (vocab or RegexVocab(['C', 'O', 'a'])).to_json()
    if edit: edit(d)
    return write_json(name, d)

@case(9, "[c26] vocabulary JSON: a RegexVocab with a catastrophic pattern '(a+)+$' (subprocess, 20 s limit)")
def _():
    p = _vocab_file('c26.json', lambda d: d['config'].update(pattern='(a+)+$'))             # a valid file otherwise
    code = (f"import json\nfrom mrl.dataloaders import Vocab\np = {str(p)!r}\n"
            "try: v = Vocab.load(p); r = ['accepted', len(v.tokenize('a' * 32 + 'b'))]\n"
            "except ValueError as e: r = ['refused', str(e), type(Vocab.load(p, trusted=True)).__name__]\n"
            "print(json.dumps(r))")
    try: r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=20, env=ENV)
    except subprocess.TimeoutExpired: return 'hang', 'tokenizing 33 characters took over 20 s'
    if r.returncode != 0: return 'traceback', r.stderr.strip().splitlines()[-1]
    res = json.loads(r.stdout.strip().splitlines()[-1])
    if res[0] == 'accepted': return 'silent wrong', 'pattern accepted'
    ok = p.name in res[1] and 'config.pattern' in res[1] and 'trusted=True' in res[1] and res[2] == 'RegexVocab'
    return ('located error' if ok else 'vague error'), f"{res[1]}; with trusted=True: a {res[2]}"

def _vocab_error(name, edit, *places, vocab=None, load=None, trusted=False):
    "`expect_error` of loading the vocabulary file `name` made by `_vocab_file` (with `load`, default `Vocab.load`)."
    from mrl.dataloaders import Vocab
    p = _vocab_file(name, edit, vocab)
    return expect_error(lambda: (load or Vocab.load)(p, trusted=trusted), p.name, *places)

def _set(*path_value):
    "An edit of a vocabulary dict: set the value at a key path, e.g. `_set('config', 'strict', 'yes')`."
    *keys, last, value = path_value
    def edit(d):
        for k in keys: d = d[k]
        d[last] = value
    return edit

VOCAB_CASES = [("[c27] a pattern that does not compile, trusted=True", dict(edit=_set('config', 'pattern', '(a'), trusted=True), ['config.pattern', 'not a valid regular expression']),
               ("[c28] pattern 5", dict(edit=_set('config', 'pattern', 5)), ['config.pattern', 'must be a string']),
               ("[c29] strict 'yes'", dict(edit=_set('config', 'strict', 'yes')), ['config.strict', "'yes'"]),
               ("[c30] no 'itos'", dict(edit=lambda d: d.pop('itos')), ['"itos"', 'missing']),
               ("[c31] 'itos' a string", dict(edit=_set('itos', 'abc')), ['"itos"', 'list', 'str']),
               ("[c32] a number among the tokens", dict(edit=lambda d: d['itos'].append(7)), ['"itos"[7]', 'string', '7']),
               ("[c33] 'itos' without the special tokens first", dict(edit=lambda d: d.update(itos=d['itos'][4:] + d['itos'][:4])), ['"itos"', 'vocabulary order']),
               ("[c33] 'itos' with a duplicate", dict(edit=lambda d: d['itos'].append('C')), ['"itos"', 'vocabulary order']),
               ("[c34] 'config' a list", dict(edit=_set('config', [1])), ['"config"', 'object', 'list']),
               ("[c35] unknown config key 'lowercase'", dict(edit=_set('config', {'lowercase': True})), ["['lowercase']", 'known']),
               ("[c36] prefunc 3", dict(edit=_set('config', 'prefunc', 3)), ['config.prefunc', 'registered function', '3']),
               ("[c37] prefunc 'os:system'", dict(edit=_set('config', 'prefunc', 'os:system')), ['config.prefunc', "'os:system'", 'not a registered function']),
               ("[c38] prefunc 'mrl.core:nothing'", dict(edit=_set('config', 'prefunc', 'mrl.core:nothing')), ['config.prefunc', "'mrl.core:nothing'"]),
               ("[c39] class 5", dict(edit=_set('class', 5)), ['"class"', 'string']),
               ("[c39] unknown class 'NoSuchVocab'", dict(edit=_set('class', 'NoSuchVocab')), ["'NoSuchVocab'", 'known']),
               ("[c40] version 2", dict(edit=_set('version', 2)), ['"version"', '2']),
               ("[c41] no 'format'", dict(edit=lambda d: d.pop('format')), ['not an mrl vocabulary file'])]
for _k, (_name, _kw, _places) in enumerate(VOCAB_CASES):
    def _mk(kw=_kw, places=_places, k=_k):
        return lambda: _vocab_error(f"voc_{k}.json", kw['edit'], *places, trusted=kw.get('trusted', False))
    _tag, _what = _name.split('] ', 1)
    case(9, f"{_tag}] vocabulary JSON: {_what}")(_mk())

@case(9, "[c37] vocabulary JSON: prefunc 'this:s' (a module outside mrl: not imported)")
def _():
    before = 'this' in sys.modules
    r = _vocab_error('c37b.json', _set('config', 'prefunc', 'this:s'), 'config.prefunc', 'not a registered function')
    return ('silent wrong', f"module 'this' imported; {r[1]}") if 'this' in sys.modules and not before else r

@case(9, "[c42] vocabulary JSON: a CharacterReplaceVocab with replace_dict {'Br': 7}")
def _():
    from mrl.smiles import CharacterReplaceVocab
    return _vocab_error('c42.json', _set('config', 'replace_dict', {'Br': 7}), 'CharacterReplaceVocab', 'replace_dict', vocab=CharacterReplaceVocab(['C'], {'Br': 'R'}))

@case(9, "[c43] vocabulary JSON: a RegexVocab file loaded with CharacterVocab.load")
def _():
    from mrl.smiles import CharacterVocab
    return _vocab_error('c43.json', None, 'RegexVocab', 'CharacterVocab', load=CharacterVocab.load)

def _hf_file(name, vocab, edit):
    "A Hugging Face tokenizers file of `vocab` (written by `to_hf_tokenizer`), after `edit(dict)`."
    p = W/name; vocab.to_hf_tokenizer(p); d = json.loads(p.read_text()); edit(d); return write_json(name, d)

@case(9, "[c44] Hugging Face tokenizers file whose Split pattern is '(a+)+$'")
def _():
    from mrl.smiles import RegexVocab, vocab_from_hf_tokenizer
    p = _hf_file('c44.json', RegexVocab(['a'], '(a+)+$'), lambda d: None)
    return expect_error(lambda: vocab_from_hf_tokenizer(p), 'c44.json', 'pre_tokenizer', 'config.pattern')

@case(9, "[c45] Hugging Face tokenizers file with a gap in the ids")
def _():
    from mrl.smiles import vocab_from_hf_tokenizer
    p = _hf_file('c45.json', _rv(), lambda d: d['model']['vocab'].update(C=500))
    return expect_error(lambda: vocab_from_hf_tokenizer(p), 'c45.json', 'model.vocab', 'without gaps')

@case(9, "[c46] saving a vocabulary whose prefunc is a lambda")
def _():
    from mrl.dataloaders import Vocab
    p = W/'c46.json'
    r = expect_error(lambda: Vocab(['a'], prefunc=lambda s: s).save(p), 'prefunc', 'cannot be saved')
    return ('silent wrong', f"{p.name} written anyway") if p.exists() else r

# ---------------------------------------------------------------------------------------------- group 10: housekeeping
@case(10, "kill -9 during epoch 2, then --resume (tiny run, 2 epochs)")
def _():
    from mrl.training import load_checkpoint
    ref, out = trained_run(), W/'killed'
    cmd = cli_cmd('mrl_train_qa', '--model_config', json.dumps(TINY), '--epochs', 2, '--out', out, '--no-progress')
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, start_new_session=True)
    t0 = time.time()
    while not (out/'last.safetensors').exists() and proc.poll() is None and time.time() - t0 < 180: time.sleep(0.05)
    time.sleep(0.3)                                                  # into epoch 2
    if proc.poll() is not None: return 'vague error', 'the run ended before it could be killed'
    os.killpg(proc.pid, signal.SIGKILL); proc.wait()
    done = load_checkpoint(out/'last.safetensors').meta['epoch']
    hist = json.loads((out/'history.json').read_text()) if (out/'history.json').exists() else []
    (out/'.last.safetensors.stale.mrl-tmp').write_bytes(b'half')    # as a kill during a save leaves
    rc, o, e = run_cli('mrl_train_qa', '--model_config', json.dumps(TINY), '--epochs', 2, '--out', out, '--no-progress', '--resume')
    if rc != 0: return classify_cli(rc, o, e, 'mrl_train_qa')
    a, b = load_checkpoint(ref/'last.safetensors'), load_checkpoint(out/'last.safetensors')
    same = all(torch.equal(a.model[k], b.model[k]) for k in a.model) and [h['f1'] for h in a.meta['history']] == [h['f1'] for h in b.meta['history']]
    stale = list(out.glob('*.mrl-tmp'))
    if done < len(hist) or not same or stale: return 'silent wrong', f"kept epoch {done} of {len(hist)} logged; same weights: {same}; stale: {stale}"
    return 'handled correctly', f"killed in epoch {done + 1}: epoch {done} kept; resumed run equals the uninterrupted one; stale temporary removed"

@case(10, "history.png written atomically")
def _():
    import mrl.learner as L
    from unittest import mock
    calls = []
    with mock.patch.object(L, 'atomic_write', side_effect=lambda p, d: calls.append(Path(p).name)):
        L.plot_history([{'epoch': 1, 'f1': 1., 'exact_match': 1.}], [2., 1.], W/'h.png')
    return ('handled correctly', 'through atomic_write') if calls == ['h.png'] else ('silent wrong', f"written directly ({calls})")

# ------------------------------------------------------------------------------- group 0: the Python API of the reader
def tiny_reader():
    "The tiny reader (`load_reader` of `tiny_reader_path()`), loaded once."
    if 'reader_obj' not in _TRAINED:
        from mrl.training import load_reader
        _TRAINED['reader_obj'] = load_reader(tiny_reader_path(), 'cpu')
    return _TRAINED['reader_obj']

C = ASK_CONTEXT
READER_CASES = [("Reader.answer(3, context)", lambda r: r.answer(3, C), ['question', 'int']),
                ("Reader.answer('', context)", lambda r: r.answer('', C), ['question', 'empty']),
                ("Reader.answer(question, '  ')", lambda r: r.answer('Where?', '  '), ['text', 'empty']),
                ("Reader.answer(question, None)", lambda r: r.answer('Where?', None), ['text', 'NoneType']),
                ("Reader.answer(question, b'bytes')", lambda r: r.answer('Where?', C.encode()), ['text', 'bytes']),
                ("Reader.answer_many: 2 questions, 1 context", lambda r: r.answer_many(['Where?', 'What?'], [C], progress=False), ['2 questions', '1 context']),
                ("Reader.answer_many: 1 question, 2 contexts", lambda r: r.answer_many(['Where?'], [C, C], progress=False), ['1 question', '2 contexts']),
                ("Reader.answer_many: a triple, not a pair", lambda r: r.answer_many([('Where?', C, 'x')], progress=False), ['questions[0]', 'pair']),
                ("Reader.answer_many: questions and no context", lambda r: r.answer_many(['Where?'], progress=False), ['questions[0]', 'pair']),
                ("Reader.answer_many: one pair not in a list", lambda r: r.answer_many(('Where?', C), progress=False), ['questions[0]', 'pair']),
                ("Reader.answer_many: a pair (3, context)", lambda r: r.answer_many([(3, C)], progress=False), ['question 0', 'int']),
                ("Reader.answer_many: a pair (question, None)", lambda r: r.answer_many([('Where?', None)], progress=False), ['context 0', 'NoneType']),
                ("Reader.answer_many: contexts not strings", lambda r: r.answer_many(['Where?', 'What?'], [C, 5], progress=False), ['context 1', 'int']),
                ("Reader.answer_many: a dict of questions", lambda r: r.answer_many({'Where?': C}, progress=False), ['dict']),
                ("Reader.answer_many(bs=0)", lambda r: r.answer_many([('Where?', C)], bs=0, progress=False), ['bs'])]
for _name, _f, _places in READER_CASES:
    case(0, _name)(lambda f=_f, places=_places: expect_error(lambda: f(tiny_reader()), *places))

@case(0, "Reader.answer_many of a SQuAD file that does not exist (str / Path)")
def _():
    outs = []
    for src in (str(W/'absent.json'), W/'absent.json'):
        r = expect_error(lambda: tiny_reader().answer_many(src, progress=False), 'absent.json')
        if r[0] == 'located error' and not any(w in r[1].lower() for w in ('no such', 'not found', 'does not exist', 'no squad file at')): r = ('vague error', r[1])
        outs.append(r)
    return worst(outs)

@case(0, "Reader.answer_many([]) (no question)")
def _():
    got = tiny_reader().answer_many([], C, progress=False)
    return ('handled correctly', 'no answers') if got == [] else ('silent wrong', repr(got)[:80])

@case(0, "Reader.answer_many of a SQuAD file whose answers are bad or missing")
def _():
    p = write_json('messy.json', MESSY)
    got = tiny_reader().answer_many(p, progress=False)
    return ('handled correctly', f"{len(got)} of 5 answered") if sorted(got) == sorted(['ok', 'empty', 'absent', 'typed', 'none']) else ('silent wrong', f"answered {sorted(got)}")

@case(0, "Reader.answer: a text of 10,051 tokens (no cut: read in windows)")
def _():
    a = tiny_reader().answer('Where is Paris?', LONG_CONTEXT, abstain=False, top_k=1)   # the best passage by BM25 only
    at = LONG_CONTEXT.index('w9750 ')                                   # the last window (300 tokens) holds the question's word
    return ('handled correctly', f"answer {a.text!r} at character {a.start}, passage {a.passage}") if a.start is not None and a.start >= at else ('silent wrong', f"answer {a.text!r} at {a.start}: the end of the text was not read")

@case(0, "load_reader: missing file / a folder / a text file / a foreign safetensors file")
def _():
    from safetensors.torch import save_file
    from mrl.training import load_reader
    (W/'text.safetensors').write_text('hello'); save_file({'w': torch.zeros(2)}, W/'foreign.safetensors')
    return worst([expect_error(lambda: load_reader(W/'nope.safetensors', 'cpu'), 'nope.safetensors'),
                  expect_error(lambda: load_reader(W, 'cpu'), str(W)),
                  expect_error(lambda: load_reader(W/'text.safetensors', 'cpu'), 'text.safetensors'),
                  expect_error(lambda: load_reader(W/'foreign.safetensors', 'cpu'), 'foreign.safetensors')])

# ------------------------------------------------------------------------------- group 0: cases the notebooks test
def _nb_cases():
    from mrl.core import read_json, default_device, sample_path, resolve_num_workers
    from mrl.chem import molwt, fingerprint
    from mrl.dataloaders import Vocab, check_texts, BucketBatchSampler
    from mrl.smiles import RegexVocab, SMILES_CHAR_VOCAB
    from mrl.squad import read_squad, load_glove, QADataset, split_by_article
    from mrl.training import TrainConfig, load_predictions
    (W/'bad.json').write_text('{"a":\n  oops}'); (W/'latin1.json').write_bytes('{"a": "é"}'.encode('latin-1'))
    (W/'trunc.json.gz').write_bytes(gzip.compress(b'{"a": 1}')[:-6]); (W/'empty.json').write_text('')
    (W/'short.txt').write_text('the 1 2 3\ncat 1 2\n'); (W/'nan.txt').write_text('the 1 2\ncat x 2\n')
    (W/'dup.csv').write_text('Id,Answer\nq1,a\nq1,b\n')
    return [
        ("read_json: invalid JSON", lambda: read_json(W/'bad.json'), ['bad.json', 'line 2']),
        ("read_json: Latin-1 bytes", lambda: read_json(W/'latin1.json'), ['latin1.json', 'byte']),
        ("read_json: broken gzip", lambda: read_json(W/'trunc.json.gz'), ['trunc.json.gz', 'gzip']),
        ("read_json: empty file", lambda: read_json(W/'empty.json'), ['empty.json', 'empty']),
        ("read_json: a folder", lambda: read_json(W), [str(W), 'folder']),
        ("default_device('gpu0')", lambda: default_device('gpu0'), ['gpu0']),
        ("resolve_num_workers(-3)", lambda: resolve_num_workers(-3), ['-3']),
        ("sample_path('nope.csv')", lambda: sample_path('nope.csv'), ['nope.csv']),
        ("molwt('C1CC') (unclosed ring)", lambda: molwt('C1CC'), ['C1CC']),
        ("fingerprint kind 'MACCS'", lambda: fingerprint('CCO', 'MACCS'), ['MACCS']),
        ("Vocab(['C', None])", lambda: Vocab(['C', None]), ['strings']),
        ("check_texts(['a', 3])", lambda: check_texts(['a', 3], 'SMILES'), ['index 1']),
        ("BucketBatchSampler(bs=0)", lambda: BucketBatchSampler(np.ones(4, int), bs=0), ['at least 1']),
        ("RegexVocab strict, 'CK'", lambda: RegexVocab(SMILES_CHAR_VOCAB, strict=True).tokenize('CK'), ["'K'", 'position 1']),
        ("read_squad: a top-level list", lambda: read_squad([1, 2]), ['list']),
        ("read_squad: Latin-1 file", lambda: read_squad(W/'latin1.json'), ['latin1.json']),
        ("load_glove: short line", lambda: load_glove(W/'short.txt'), ['short.txt', 'line 2']),
        ("load_glove: not a number", lambda: load_glove(W/'nan.txt'), ['nan.txt', 'line 2']),
        ("split_by_article(valid_pct=1)", lambda: split_by_article([], 1.0), ['valid_pct']),
        ("TrainConfig(opt='sgd')", lambda: TrainConfig(opt='sgd'), ['sgd']),
        ("load_predictions: duplicated id", lambda: load_predictions(W/'dup.csv'), ['dup.csv', 'line 3']),
    ]

@case(0, "read_squad: malformed questions (wrong start, missing answers, duplicates, empty context)")
def _():
    from mrl.squad import read_squad
    d = {'version': '1.1', 'data': [{'title': 'T', 'paragraphs': [
        {'context': 'Paris is in France.', 'qas': [{'id': 'a', 'question': 'q?', 'answers': [{'text': 'France', 'answer_start': 3}]},
                                                 {'id': 'b', 'question': 'q?'}, {'id': 'a', 'question': 'q?', 'answers': [{'text': 'Paris', 'answer_start': 0}]}]},
        {'context': '', 'qas': [{'id': 'c', 'question': 'q?', 'answers': [{'text': 'x', 'answer_start': 0}]}]}]}]}
    sq = read_squad(d, source='m.json')
    ok = len(sq.examples) == 1 and len(sq.lost_qids) == 3 and sq.n_realigned == 1
    return ('counted skip' if ok else 'silent wrong'), sq.report(0)

def _register_nb_cases():
    try: cases = _nb_cases()
    except Exception as e:
        case(0, "notebook cases (setup)")(lambda e=e: ('traceback', f"{type(e).__name__}: {e}")); return
    for name, f, places in cases:
        case(0, name)(lambda f=f, places=places: expect_error(f, *places))

# ============================================================================================ issue 18: second round
# Groups 11-15 are the five groups of issue 18 (code from data files, the user's files, silent results, unbounded
# inputs, vague errors), with the cases found by analogy (other fields that name functions, other writers, other
# outputs). A case that another branch fixes names it in `owner` (its failures are expected until that branch merges).
SENTINEL = W/'code-ran'                                                # a file that only running a file's code would create

def no_code_ran(r):
    "`r`, unless the sentinel exists: then code named by a file ran (the worst outcome: 'silent wrong', listed first)."
    if SENTINEL.exists(): SENTINEL.unlink(); return 'silent wrong', f"CODE RAN (the sentinel file was created); {r[1]}"
    return r

def in_subprocess(code:str, timeout=120) -> tuple:
    "`(returncode, stdout, stderr, seconds)` of Python `code` run in a fresh interpreter on this checkout."
    t = time.perf_counter()
    try: r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=timeout, env=ENV)
    except subprocess.TimeoutExpired: return None, '', f'timed out after {timeout} s', time.perf_counter() - t
    return r.returncode, r.stdout, r.stderr, time.perf_counter() - t

def snapshot(*paths) -> dict:
    "The bytes of each file of `paths` (None when absent): compared after a case to find data losses."
    return {str(p): (Path(p).read_bytes() if Path(p).is_file() else None) for p in paths}

def losses(before:dict) -> list:
    "The files of `before` whose content changed or that disappeared."
    return [Path(p).name for p, b in before.items() if b is not None and (not Path(p).is_file() or Path(p).read_bytes() != b)]

def guarded(r, before:dict):
    "`r`, or `data loss` when a file of `before` was changed or removed."
    lost = losses(before)
    return ('data loss', f"changed or removed: {lost}; {r[1]}") if lost else r

def run_copy(name) -> Path:
    "A copy of the reference run folder (so that cases may change it)."
    dst = W/name
    if dst.exists(): shutil.rmtree(dst)
    shutil.copytree(trained_run(), dst); return dst

# -------------------------------------------------------------------------- group 11: no code from data files
SYSTEM_REF, EVAL_REF = 'mrl.core:os.system', 'mrl.core:inspect.builtins.eval'
def _evil_vocab(name, field, ref, klass='FuncVocab', module='mrl.smiles'):
    "A vocabulary file whose `field` names `ref` (a function that would run a shell command or Python code)."
    from mrl.smiles import RegexVocab
    d = RegexVocab(['C', 'O']).to_json(); d.update({'class': klass, 'module': module})
    d['config'] = {'tok_func': 'builtins:str.split'} if klass == 'FuncVocab' else {}
    d['config'][field] = ref
    return write_json(name, d)

def _load_vocab_subprocess(p, trusted) -> tuple:
    "Load vocabulary file `p` (and tokenize with it) in a fresh interpreter: `(outcome, detail)`; code that runs creates the sentinel."
    code = (f"from mrl.dataloaders import Vocab\nimport sys\n"
            f"try: v = Vocab.load({str(p)!r}, trusted={trusted})\nexcept Exception as e: print('REFUSED', type(e).__name__, e); sys.exit(0)\n"
            f"v.tokenize('touch {SENTINEL}'); print('LOADED')")
    rc, o, e, _ = in_subprocess(code)
    if rc != 0: return 'traceback', e.strip().splitlines()[-1] if e.strip() else f'exit {rc}'
    r = ('located error', o.strip()) if o.startswith('REFUSED') and p.name in o and any(f in o for f in ('tok_func', 'prefunc', 'postfunc')) else \
        ('vague error', o.strip()) if o.startswith('REFUSED') else ('silent wrong', f"loaded: {o.strip()}")
    return no_code_ran(r)

for _field, _ref in (('tok_func', SYSTEM_REF), ('prefunc', SYSTEM_REF), ('postfunc', SYSTEM_REF), ('tok_func', EVAL_REF), ('prefunc', EVAL_REF)):
    for _trusted in (False, True):
        def _mk(field=_field, ref=_ref, trusted=_trusted):
            return lambda: _load_vocab_subprocess(_evil_vocab(f"evil_{field}_{ref.rsplit('.', 1)[-1]}_{trusted}.json", field, ref), trusted)
        case(11, f"vocabulary file: {_field} {_ref!r}, trusted={_trusted} (loading runs nothing)")(_mk())

@case(11, "vocabulary file: module 'os' / 'subprocess' / class 'system' (class names are looked up, never imported)")
def _():
    outs = []
    for klass, module in (('Vocab', 'os'), ('Popen', 'subprocess'), ('system', 'os'), ('RegexVocab', 'this')):   # 'this' prints when imported
        from mrl.smiles import RegexVocab
        d = RegexVocab(['C']).to_json(); d.update({'class': klass, 'module': module})
        p = write_json(f'evil_class_{klass}_{module}.json', d)
        code = (f"import sys\nfrom mrl.dataloaders import Vocab\ntry: Vocab.load({str(p)!r}, trusted=True)\n"
                f"except Exception as e: print('REFUSED', e)\nprint('IMPORTED' if 'this' in sys.modules else 'CLEAN')")
        rc, o, e, _ = in_subprocess(code)
        if rc != 0: outs.append(('traceback', e.strip().splitlines()[-1])); continue
        if 'IMPORTED' in o: outs.append(('silent wrong', f"module {module} imported by loading"))
        elif 'REFUSED' in o: outs.append(('located error' if p.name in o else 'vague error', o.strip().splitlines()[0]))
        else: outs.append(('silent wrong', 'accepted: ' + o.strip()))
    return worst(outs)

def _forged_reader(name, edit):
    "The tiny reader's checkpoint with its metadata edited by `edit(meta)` and the digest recomputed (a forger's file)."
    from mrl.checkpoints import load_checkpoint, save_checkpoint
    ck = load_checkpoint(tiny_reader_path())
    meta = json.loads(json.dumps(ck.meta)); edit(meta)
    return save_checkpoint(W/name, ck.model, None, meta)

for _field, _ref in (('prefunc', SYSTEM_REF), ('tok_func', SYSTEM_REF), ('postfunc', EVAL_REF)):
    def _mk(field=_field, ref=_ref):
        def f():
            def edit(m): m['vocab']['config'][field] = ref
            p = _forged_reader(f'evil_ck_{field}.safetensors', edit)
            code = (f"from mrl.reader import load_reader\nimport sys\ntry: r = load_reader({str(p)!r}, 'cpu')\n"
                    f"except Exception as e: print('REFUSED', type(e).__name__, e); sys.exit(0)\n"
                    f"r.answer('touch {SENTINEL}', 'touch {SENTINEL} now'); print('LOADED')")
            rc, o, e, _ = in_subprocess(code)
            if rc != 0: return no_code_ran(('traceback', e.strip().splitlines()[-1]))
            r = ('located error', o.strip()) if o.startswith('REFUSED') and p.name in o and 'meta.vocab' in o else \
                ('vague error', o.strip()) if o.startswith('REFUSED') else ('silent wrong', 'a checkpoint naming a shell command loaded')
            return no_code_ran(r)
        return f
    case(11, f"checkpoint (digest recomputed) whose vocabulary's {_field} is {_ref!r} (loading runs nothing)")(_mk())

@case(11, "checkpoint (digest recomputed) whose model_class is 'os.system' / char_vocab names a function")
def _():
    from mrl.training import load_reader
    p1 = _forged_reader('evil_class.safetensors', lambda m: m.update(model_class='os.system'))
    def chars(m):
        from mrl.dataloaders import Vocab
        m['char_vocab'] = {**Vocab(['a']).to_json(), 'config': {'prefunc': SYSTEM_REF}}
    p2 = _forged_reader('evil_chars.safetensors', chars)
    return no_code_ran(worst([expect_error(lambda: load_reader(p1, 'cpu'), 'evil_class.safetensors', 'model_class'),
                              expect_error(lambda: load_reader(p2, 'cpu'), 'evil_chars.safetensors')]))

@case(11, "a pickle (torch.save with a __reduce__ payload) named .safetensors: never unpickled")
def _():
    from mrl.training import load_reader, load_checkpoint
    import pickle
    class Payload:
        def __reduce__(self): return (os.system, (f'touch {SENTINEL}',))
    p = W/'pickle.safetensors'; p.write_bytes(pickle.dumps({'model': Payload()}))
    return no_code_ran(worst([expect_error(lambda: load_checkpoint(p), 'pickle.safetensors'), expect_error(lambda: load_reader(p, 'cpu'), 'pickle.safetensors')]))

@case(11, "documented limit: a checkpoint edited by hand with its digest recomputed (a forger) loads")
def _():
    from mrl.training import load_reader
    p = _forged_reader('forged_ok.safetensors', lambda m: m.update(card={'summary': 'edited'}))
    r = load_reader(p, 'cpu')
    return ('documented limit', "the digest detects accidents, not a forger (no secret key): the README says so") if r.meta.get('card', {}).get('summary') == 'edited' else ('handled correctly', 'refused')

# ------------------------------------------------------------------------------------ group 12: the user's files
@case(12, "mrl_predict_qa data.json --out data.json (the same path)")
def _():
    p = write_json('clobber.json', squad([{'id': 'a', 'question': 'Where?', 'answers': [{'text': 'France', 'answer_start': 12}]}]))
    before = snapshot(p)
    return guarded(classify_cli(*run_inproc('mrl_predict_qa', p, '--checkpoint', tiny_reader_path(), '--out', p), 'mrl_predict_qa', '--out', 'overwrite the input'), before)

@case(12, "mrl_predict_qa data.json --out a hard link / a symbolic link to data.json")
def _():
    p = write_json('clobber2.json', squad([{'id': 'a', 'question': 'Where?'}])); before = snapshot(p)
    for q in (W/'clobber2_hard.json', W/'clobber2_soft.json'): q.unlink(missing_ok=True)
    os.link(p, W/'clobber2_hard.json'); os.symlink(p, W/'clobber2_soft.json')
    return guarded(worst([classify_cli(*run_inproc('mrl_predict_qa', p, '--checkpoint', tiny_reader_path(), '--out', W/o), 'mrl_predict_qa', '--out', 'overwrite the input')
                          for o in ('clobber2_hard.json', 'clobber2_soft.json')]), before)

@case(12, "mrl_predict_qa --out the checkpoint / the GloVe file it reads")
def _():
    ck = run_copy('clobber_ck')/'best.safetensors'; g = W/'glove_in.json'; g.write_text('the 1 2\n'); before = snapshot(ck, g)
    p = write_json('q1.json', squad([{'id': 'a', 'question': 'Where?'}]))
    return guarded(worst([classify_cli(*run_inproc('mrl_predict_qa', p, '--checkpoint', ck, '--out', ck), 'mrl_predict_qa', '--out'),
                          classify_cli(*run_inproc('mrl_predict_qa', p, '--checkpoint', ck, '--glove', g, '--out', g), 'mrl_predict_qa', '--out')]), before)

@case(12, "mrl_train_qa --train RUN/predictions.json --out RUN (an output of the run is its input)")
def _():
    d = W/'own_input'; d.mkdir(exist_ok=True); p = d/'predictions.json'; p.write_text(json.dumps(sample_json())); before = snapshot(p)
    return guarded(classify_cli(*run_inproc('mrl_train_qa', '--train', p, '--out', d, '--model_config', json.dumps(TINY), '--epochs', 1, '--no-progress'),
                                'mrl_train_qa', '--out', 'overwrite the input'), before)

@case(12, "export_reader(ck, ck): the training checkpoint replaced by a slimmed reader", )
def _():
    from mrl.training import export_reader
    ck = run_copy('export_self')/'last.safetensors'; before = snapshot(ck)
    return guarded(expect_error(lambda: export_reader(ck, ck), 'last.safetensors'), before)
CASES[-1].owner = 'integrator (04c export_reader)'

@case(12, "two mrl_train_qa runs into the same --out at once (subprocesses)")
def _():
    out = W/'race'
    cmd = cli_cmd('mrl_train_qa', '--model_config', json.dumps(TINY), '--epochs', 2, '--out', out, '--no-progress')
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV) for _ in range(2)]
    res = [(p.returncode, *o) for p in procs for o in [p.communicate(timeout=600)]]
    codes = sorted(r[0] for r in res)
    if codes == [0, 0]: return 'data loss', 'both exited 0: a folder mixed from two runs'
    loser = next((r for r in res if r[0] != 0), None)
    if codes != [0, 2] or not any(m in loser[2] for m in ('in use by another training run', 'holds an earlier run')): return 'vague error', f"exit codes {codes}: {one_line(loser[2][-300:] if loser else '')}"
    from mrl.training import load_checkpoint
    hist = json.loads((out/'history.json').read_text()); ck = load_checkpoint(out/'last.safetensors')
    same = [h['f1'] for h in hist] == [h['f1'] for h in ck.meta['history']]
    return ('handled correctly' if same else 'data loss'), f"exit codes {codes}; the second: {one_line(loser[2].strip().splitlines()[-1], 90)}"

@case(12, "a user's .notes.tmp and .x.tmp in --out survive a run and a --resume")
def _():
    d = run_copy('user_tmp'); mine = [d/'.notes.tmp', d/'.last.safetensors.abc.tmp']
    for m in mine: m.write_text('mine')
    before = snapshot(*mine)
    rc, o, e = run_inproc('mrl_train_qa', '--resume', '--out', d, '--epochs', 3, '--no-progress')          # one more epoch: fit cleans up first
    return guarded(classify_cli(rc, o, e, 'mrl_train_qa', ok=lambda o, e: ('handled correctly', 'kept: ' + ', '.join(m.name for m in mine))), before)

@case(12, "mrl_train_qa into a folder holding an earlier run, without --resume")
def _():
    d = run_copy('earlier'); before = snapshot(*(d/n for n in ('best.safetensors', 'last.safetensors', 'history.json', 'predictions.json')))
    return guarded(classify_cli(*run_inproc('mrl_train_qa', '--out', d, '--model_config', json.dumps(TINY), '--epochs', 1, '--no-progress'),
                                'mrl_train_qa', 'holds an earlier run', '--resume', '--overwrite'), before)

@case(12, "mrl_train_qa --overwrite: the run's files replaced, the user's notes.txt and data.json kept")
def _():
    d = run_copy('overwrite'); (d/'notes.txt').write_text('mine'); (d/'data.json').write_text('{}'); before = snapshot(d/'notes.txt', d/'data.json')
    rc, o, e = run_inproc('mrl_train_qa', '--out', d, '--model_config', json.dumps(TINY), '--epochs', 1, '--overwrite', '--no-progress')
    from mrl.training import load_checkpoint
    ok = lambda o, e: ('handled correctly', 'a new run of 1 epoch; the user files kept') if load_checkpoint(d/'last.safetensors').meta['epoch'] == 1 else ('silent wrong', 'old checkpoint kept')
    return guarded(classify_cli(rc, o, e, 'mrl_train_qa', ok=ok), before)

@case(12, "a lock left by kill -9 (a dead pid on this host) is taken over with a note; another host's is not")
def _():
    import socket
    from mrl.learner import LOCK_FILE
    d = run_copy('stale_lock')
    dead = subprocess.run([sys.executable, '-c', 'import os; print(os.getpid())'], capture_output=True, text=True).stdout.strip()
    (d/LOCK_FILE).write_text(json.dumps({'pid': int(dead), 'host': socket.gethostname(), 'started': 'earlier'}))
    rc, o, e = run_inproc('mrl_train_qa', '--resume', '--out', d, '--epochs', 2, '--no-progress')
    r1 = classify_cli(rc, o, e, 'mrl_train_qa', ok=lambda o, e: ('handled correctly', one_line(e.strip().splitlines()[0], 90)) if 'took over the lock' in e else ('silent wrong', 'no note'))
    (d/LOCK_FILE).write_text(json.dumps({'pid': 1, 'host': 'another-machine', 'started': 'earlier'}))
    r2 = classify_cli(*run_inproc('mrl_train_qa', '--resume', '--out', d, '--epochs', 2, '--no-progress'), 'mrl_train_qa', 'another-machine', 'delete')
    return worst([r2, r1]) if r2[0] != 'located error' else r1

def _write_to_fifo(call:str) -> tuple:
    "`(outcome, detail)` of writer call `call` (Python, `F` the FIFO) in a subprocess: a writer that opens a FIFO blocks (20 s limit)."
    fifo = W/'out_fifo.json'
    if not fifo.exists(): os.mkfifo(fifo)
    code = (f"from pathlib import Path\nfrom mrl.evaluation import save_predictions\nfrom mrl.smiles import RegexVocab\nF = Path({str(fifo)!r})\n"
            f"try: {call}; print('WROTE')\nexcept Exception as e: print('REFUSED', type(e).__name__, e)")
    rc, o, e, secs = in_subprocess(code, timeout=20)
    if rc is None: return 'hang', f"{call}: blocked on the FIFO for {secs:.0f} s"
    if rc != 0: return 'traceback', e.strip().splitlines()[-1]
    return ('located error' if 'out_fifo.json' in o and 'REFUSED' in o else 'vague error' if 'REFUSED' in o else 'silent wrong'), one_line(o, 90)

@case(12, "save_predictions / Vocab.save onto a FIFO (refused, not blocked or replaced)")
def _(): return worst([_write_to_fifo("save_predictions({'a': 'b'}, F)"), _write_to_fifo("RegexVocab(['C']).save(F)")])

@case(12, "RegexVocab.to_hf_tokenizer onto a FIFO (another writer)")
def _(): return _write_to_fifo("RegexVocab(['C']).to_hf_tokenizer(F)")
CASES[-1].owner = 'data2 (01a to_hf_tokenizer: atomic_write)'

# ------------------------------------------------------------------------------------ group 13: silent results
@case(13, "read_smiles_csv 'SMILES,y\\nCCO,1,5' (one extra field shifts the columns)")
def _(): return expect_error_at(_read_csv('extra_field.csv', 'SMILES,y\nCCO,1,5\n', y_cols='y'), 'line 2', 'extra_field.csv')
CASES[-1].owner = 'data2'

@case(13, "mrl_train_qa --train a file whose 39 questions have no answers")
def _():
    p = write_json('noanswers.json', squad([{'id': f'q{i}', 'question': 'Where?'} for i in range(39)]))
    return classify_cli(*run_inproc('mrl_train_qa', '--train', p, '--out', W/'noanswers', '--model_config', json.dumps(TINY), '--no-progress'),
                        'mrl_train_qa', 'noanswers.json', 'answer')

@case(13, "mrl_train_qa --resume with a different --train file")
def _():
    d = run_copy('resume_other'); d2 = sample_json(); d2['data'] = d2['data'][:3]; p = write_json('other_train.json', d2)
    before = snapshot(d/'last.safetensors')
    return guarded(classify_cli(*run_inproc('mrl_train_qa', '--resume', '--out', d, '--train', p, '--epochs', 3, '--no-progress'),
                                'mrl_train_qa', 'other_train.json', 'sha256', 'squad-sample.json'), before)

@case(13, "mrl_train_qa --resume with another --seed (a different held-out split)")
def _():
    d = run_copy('resume_seed')
    return classify_cli(*run_inproc('mrl_train_qa', '--resume', '--out', d, '--seed', 7, '--epochs', 3, '--no-progress'), 'mrl_train_qa', 'held-out split')

@case(13, "mrl_train_qa --resume with the same data, compressed and renamed (the digest is of the content)")
def _():
    d = run_copy('resume_gz'); p = W/'renamed.json.gz'; p.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    rc, o, e = run_inproc('mrl_train_qa', '--resume', '--out', d, '--train', p, '--epochs', 2, '--no-progress')
    return classify_cli(rc, o, e, 'mrl_train_qa', ok=lambda o, e: ('handled correctly', one_line(o.strip().splitlines()[-1], 80)))

@case(13, "Reader.answer on a passage of zero-width / control characters (score 1.00?)")
def _():
    from mrl.training import load_reader
    outs = []
    for ctx in ('\u200b\u200b\u200b', '\x01\x02\x03', '\u200b'):
        try: a = load_reader(None, 'cpu').answer('Where is Paris?', ctx)
        except (ValueError, TypeError) as e:                              # located: it says that the passage has no text to read
            outs.append(('located error' if 'context' in str(e) and any(w in str(e) for w in ('empty', 'no text', 'no token', 'invisible')) else 'vague error', str(e))); continue
        if not a.found: outs.append(('handled correctly', f"no answer (score {a.score:.2f})")); continue    # "no answer": nothing to read
        outs.append(('silent wrong', f"answered {a.text!r} with score {a.score:.2f}") if a.score > 0.5 or not a.text.strip() else ('handled correctly', str(a)))
    return worst(outs)
CASES[-1].owner = 'integrator (04c Reader, issue 19)'

@case(13, "split_by_scaffold of acyclic molecules (one scaffold '': an empty validation part)")
def _():
    from mrl.chem import split_by_scaffold
    mols = ['CCO', 'CCN', 'CCC', 'CCCC', 'CO', 'CCCO', 'CCCN', 'OCCO', 'NCCN', 'CC(C)O']
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter('always')
        try: sp = split_by_scaffold(mols, 0.2)
        except ValueError as e: return ('located error', str(e)) if 'empty' in str(e) or 'scaffold' in str(e) else ('vague error', str(e))
    said = ' '.join(str(x.message) for x in w)
    if len(sp.valid_idxs) == 0 and 'empty' not in said: return 'silent wrong', f"valid part empty, nothing said; {sp!r}"
    return 'counted skip' if len(sp.valid_idxs) == 0 else 'handled correctly', one_line(said or repr(sp))
CASES[-1].owner = 'data2'

@case(13, "scaffolds of stereoisomers (cis/trans decalin): one group by default")
def _():
    from mrl.chem import split_by_scaffold, murcko_scaffold
    cis, trans = 'C1CC[C@H]2CCCC[C@@H]2C1', 'C1CC[C@@H]2CCCC[C@@H]2C1'
    a, b = murcko_scaffold(cis), murcko_scaffold(trans)
    sp = split_by_scaffold([cis, trans] * 5 + ['c1ccccc1'] * 10, 0.5, seed=0)
    parts = [set(sp.train_idxs.tolist()), set(sp.valid_idxs.tolist())]
    together = any(set(range(10)) <= p for p in parts)
    return ('handled correctly', f"one group (scaffolds compared without stereochemistry; murcko_scaffold keeps it: {a!r}, {b!r})") if together else ('silent wrong', f"scaffolds {a!r} and {b!r}; stereoisomers split across parts")
CASES[-1].owner = 'data2'

@case(13, "predictions CSV: question ids '=cmd', '+1', '-1', '@x' (spreadsheet formulas)")
def _():
    from mrl.training import save_predictions, load_predictions
    ids = {'=HYPERLINK("http://x")': 'a', '+1': 'b', '-1': 'c', '@x': 'd', "'q": 'e'}
    p = save_predictions(ids, W/'formula_ids.csv')
    with open(p, newline='', encoding='utf-8') as f: rows = list(csv.reader(f))[1:]
    danger = [q for q, _ in rows if q[:1] in ('=', '+', '-', '@', '\t', '\r')]
    back = load_predictions(p)
    return ('handled correctly', "ids escaped with ' and unescaped on load") if not danger and back == ids else ('silent wrong', f"formulas {danger}; round trip {back == ids}")

@case(13, "Hugging Face tokenizer of a RegexVocab: a text containing the literal 'unk' gives other ids")
def _():
    from mrl.smiles import RegexVocab, SMILES_CHAR_VOCAB
    from tokenizers import Tokenizer
    v = RegexVocab(SMILES_CHAR_VOCAB); p = W/'hf_unk.json'; v.to_hf_tokenizer(p)
    text = 'CCunkC'
    mine, theirs = v.encode(text), Tokenizer.from_file(str(p)).encode(text).ids
    return ('handled correctly', f"same ids {mine}") if list(mine) == list(theirs) else ('silent wrong', f"mrl {list(mine)} vs HF {theirs}")
CASES[-1].owner = 'data2'

@case(13, "a Hugging Face tokenizer file without its post-processor")
def _():
    from mrl.smiles import vocab_from_hf_tokenizer
    p = _hf_file('hf_nopost.json', _rv(), lambda d: d.update(post_processor=None))
    return expect_error(lambda: vocab_from_hf_tokenizer(p), 'hf_nopost.json', 'post_processor')
CASES[-1].owner = 'data2'

@case(13, "KmerVocab file with \"keep_partial\": \"no\"")
def _():
    from mrl.smiles import KmerVocab, DNA_TRIMERS
    return _vocab_error('kmer_keep.json', _set('config', 'keep_partial', 'no'), 'keep_partial', vocab=KmerVocab(DNA_TRIMERS, 3))
CASES[-1].owner = 'data2'

@case(13, "a FuncVocab whose function returns ints: save, then load")
def _():
    from mrl.smiles import FuncVocab
    from mrl.dataloaders import Vocab, register_function
    def digits_of(s): return [int(c) for c in s]
    register_function(digits_of, 'bench:digits_of')
    v = FuncVocab(['1', '2'], digits_of); p = W/'func_ints.json'
    try: v.save(p)
    except (ValueError, TypeError) as e: return ('located error', str(e)) if 'tok_func' in str(e) or 'int' in str(e) else ('vague error', str(e))
    try: Vocab.load(p); return 'handled correctly', 'saved and loaded'
    except Exception as e: return 'silent wrong', f"saved a file it cannot load: {type(e).__name__}: {one_line(e, 80)}"
CASES[-1].owner = 'data2'

@case(13, "a lone surrogate in an answer / id: the predictions writers (JSON round-trips, CSV refused before writing)")
def _():
    from mrl.training import save_predictions, load_predictions
    odd = {'q\ud800': 'an \udc80 answer'}
    try: back = load_predictions(save_predictions(odd, W/'odd.json'))
    except Exception as e: return 'traceback', f"{type(e).__name__}: {e}"
    if back != odd: return 'silent wrong', 'JSON does not round-trip'
    r = expect_error(lambda: save_predictions(odd, W/'odd.csv'), 'odd.csv', "'q\\ud800'")
    return ('silent wrong', 'a CSV was written') if (W/'odd.csv').exists() else r

@case(13, "mrl_predict_qa --out x.csv on a file whose question id holds a lone surrogate (refused before predicting)")
def _():
    p = write_json('odd_ids.json', squad([{'id': 'q\ud800', 'question': 'Where?'}]))
    t = time.perf_counter(); rc, o, e = run_inproc('mrl_predict_qa', p, '--checkpoint', tiny_reader_path(), '--out', W/'odd_ids.csv')
    return classify_cli(rc, o, e, 'mrl_predict_qa', 'odd_ids.json', "'q\\ud800'", '.json')

@case(13, "Vocab.save of a token holding a lone surrogate (another writer)")
def _():
    from mrl.dataloaders import Vocab
    p = W/'odd_vocab.json'
    try: Vocab(['a\ud800']).save(p)
    except UnicodeError as e: return ('vague error' if 'odd_vocab.json' in str(e) else 'traceback'), f"{type(e).__name__}: {e}"
    except (ValueError, TypeError) as e: return ('located error' if 'odd_vocab.json' in str(e) else 'vague error'), str(e)
    except Exception as e: return 'traceback', f"{type(e).__name__}: {e}"
    try: back = Vocab.load(p).itos
    except Exception as e: return 'silent wrong', f"written, not loadable: {type(e).__name__}: {e}"
    return ('handled correctly', 'round-trips') if 'a\ud800' in back else ('silent wrong', 'token changed')

CASES[-1].owner = 'data1/data2 (01_dataloaders Vocab.save: ensure_ascii=False)'

@case(13, "mrl_ask: an answer holding a lone surrogate (from a byte the shell could not decode) is printed")
def _():
    ctx = 'Paris is in Fr\udcffance and nowhere else.'                      # a subprocess: its stdout encodes strictly
    rc, o, e = run_cli('mrl_ask', 'Where is Paris?', '--context', ctx, '--checkpoint', tiny_reader_path())
    return classify_cli(rc, o, e, 'mrl_ask', ok=lambda o, e: ('handled correctly', one_line(o, 80)))

# ------------------------------------------------------------------------------------ group 14: unbounded inputs
@case(14, "read_json of a gzip that expands to 5 GiB (80 members of 64 MiB of zeros)")
def _():
    from mrl.core import read_json
    member = gzip.compress(b'0' * (64 << 20), compresslevel=9); p = W/'bomb.json.gz'; p.write_bytes(member * 80)
    return expect_error(lambda: read_json(p), 'bomb.json.gz', 'MAX_DECOMPRESSED_BYTES')

@case(14, "mrl_eval_squad / mrl_predict_qa on a JSON of 100,000 nested brackets")
def _():
    p = write_json('deep.json', None, b'[' * 100_000 + b']' * 100_000); preds = write_json('preds_any.json', {'a': 'Paris'})
    return worst([classify_cli(*run_inproc('mrl_eval_squad', p, preds), 'mrl_eval_squad', 'deep.json', 'nested'),
                  classify_cli(*run_inproc('mrl_predict_qa', p, '--checkpoint', tiny_reader_path(), '--out', W/'deep_out.json'), 'mrl_predict_qa', 'deep.json', 'nested')])

@case(14, "checkpoint header of 100,000 nested brackets")
def _():
    from safetensors.torch import save_file
    from mrl.training import load_checkpoint, load_reader
    p = W/'deep_header.safetensors'
    save_file({'w': torch.zeros(2)}, p, metadata={'mrl': '{"format": "mrl-checkpoint/2", "meta": ' + '[' * 100_000 + ']' * 100_000 + '}'})
    return worst([expect_error(lambda: load_checkpoint(p), 'deep_header.safetensors', 'nested'), expect_error(lambda: load_reader(p, 'cpu'), 'deep_header.safetensors', 'nested')])

@case(14, "mrl_train_qa --model_config '{\"hidden\": 100000}' (160 GB): refused before allocating")
def _():
    t = time.perf_counter(); rc, o, e = run_inproc('mrl_train_qa', '--model_config', '{"hidden": 100000}', '--out', W/'huge')
    r = classify_cli(rc, o, e, 'mrl_train_qa', '--model_config', 'parameters', 'MAX_MODEL_PARAMS')
    return r if time.perf_counter() - t < 30 else ('vague error', f"only after {time.perf_counter() - t:.0f} s: {r[1]}")

@case(14, "a checkpoint (digest recomputed) whose model_config says hidden=100000, emb_dim=100000")
def _():
    from mrl.training import load_reader
    outs = []
    for k in ('hidden', 'emb_dim'):
        p = _forged_reader(f'huge_{k}.safetensors', lambda m, k=k: m['model_config'].update({k: 100_000}))
        code = f"from mrl.reader import load_reader\ntry: load_reader({str(p)!r}, 'cpu'); print('LOADED')\nexcept Exception as e: print('REFUSED', type(e).__name__, e)"
        rc, o, e, secs = in_subprocess(code, timeout=120)
        if rc is None or rc < 0 or rc == 137: outs.append(('hang', f"killed/timed out after {secs:.0f} s (allocating)")); continue
        outs.append(('located error', one_line(o)) if 'REFUSED' in o and p.name in o and 'parameters' in o else ('vague error' if 'REFUSED' in o else 'silent wrong', one_line(o or e)))
    return worst(outs)

@case(14, "featurize(['CCO'], nbits=2**32)")
def _():
    from mrl.chem import featurize
    return expect_error(lambda: featurize(['CCO'], nbits=2**32, progress=False), 'nbits')
CASES[-1].owner = 'data2'

@case(14, "featurize of a 100,000-atom SMILES (subprocess, 75 s limit)")
def _():
    code = ("import time\nfrom mrl.chem import featurize\nt = time.perf_counter()\n"
            "try: r = featurize(['C' * 100_000, 'CCO'], progress=False); print('DONE', r.failed_idxs, round(time.perf_counter() - t, 1))\n"
            "except Exception as e: print('REFUSED', type(e).__name__, e, round(time.perf_counter() - t, 1))")
    rc, o, e, secs = in_subprocess(code, timeout=75)
    if rc is None: return 'hang', f"over {secs:.0f} s"
    if rc != 0: return 'traceback', e.strip().splitlines()[-1]
    if secs > 60: return 'hang', f"{secs:.0f} s: {one_line(o, 80)}"
    return ('counted skip' if 'DONE [0]' in o else 'located error' if 'REFUSED' in o else 'handled correctly'), f"{secs:.0f} s: {one_line(o, 80)}"
CASES[-1].owner = 'data2'

@case(14, "the bundled reader: 39 questions, one about a 50,000-word passage (subprocess, 150 s limit)")
def _():
    code = ("import time, torch\ntorch.set_num_threads(1)\nfrom mrl.reader import load_reader\nr = load_reader(None, 'cpu')\n"
            "ctx = 'Paris is in France.'\nlong = ' '.join(f'w{i}' for i in range(50_000)) + ' Paris is in France.'\n"
            "pairs = [('Where is Paris?', ctx)] * 38 + [('Where is Paris?', long)]\n"
            "t = time.perf_counter(); a = r.answer_many(pairs, progress=False); print('DONE', round(time.perf_counter() - t, 1), a[-1].text)")
    rc, o, e, secs = in_subprocess(code, timeout=150)
    if rc is None: return 'hang', f"over {secs:.0f} s"
    if rc != 0: return 'traceback', e.strip().splitlines()[-1]
    t = float(o.split()[1])
    return ('hang' if t > 60 else 'handled correctly'), f"answered in {t:.0f} s"
CASES[-1].owner = 'integrator (04c Reader batching, issue 19)'

# ------------------------------------------------------------------------------------ group 15: vague errors
@case(15, "mrl_eval_squad /dev/stdin PREDICTIONS (stdin piped, subprocess)")
def _():
    ref = write_json('stdin_ref.json', squad([{'id': 'a', 'question': 'q', 'answers': [{'text': 'France', 'answer_start': 12}]}]))
    preds = write_json('stdin_preds.json', {'a': 'France'})
    r = subprocess.run(cli_cmd('mrl_eval_squad', '/dev/stdin', preds), input=ref.read_text(), capture_output=True, text=True, env=ENV, timeout=120)
    return classify_cli(r.returncode, r.stdout, r.stderr, 'mrl_eval_squad', ok=lambda o, e: ('handled correctly', o.strip()) if '"f1": 100.0' in o else ('silent wrong', o))

@case(15, "mrl_predict_qa <(cat data.json) and a FIFO as DATA (bash, subprocess)")
def _():
    data = write_json('pipe_data.json', squad([{'id': 'a', 'question': 'Where?'}]))
    fifo = W/'data.fifo'
    if not fifo.exists(): os.mkfifo(fifo)
    outs = []
    for src in (f'<(cat {data})', str(fifo)):
        feed = f'(cat {data} > {fifo} &) ; ' if src == str(fifo) else ''
        cmd = ' '.join(f"'{c}'" for c in cli_cmd('mrl_predict_qa')) + f" {src} --checkpoint {tiny_reader_path()} --out {W/'pipe_out.json'} --no-progress"
        r = subprocess.run(['bash', '-c', feed + cmd], capture_output=True, text=True, env=ENV, timeout=180)
        outs.append(classify_cli(r.returncode, r.stdout, r.stderr, 'mrl_predict_qa', ok=lambda o, e: ('handled correctly', one_line(o, 60)) if o.startswith('1 predictions') else ('silent wrong', o)))
    return worst(outs)

@case(15, "mrl_predict_qa --out in an unwritable place (/proc): refused before any work")
def _():
    p = write_json('q_ro.json', squad([{'id': 'a', 'question': 'Where?'}]))
    t = time.perf_counter(); rc, o, e = run_inproc('mrl_predict_qa', p, '--checkpoint', tiny_reader_path(), '--out', '/proc/mrl-predictions.json')
    r = classify_cli(rc, o, e, 'mrl_predict_qa', '--out', '/proc')
    return r if 'Traceback' in e or rc != 2 or time.perf_counter() - t < 5 else ('vague error', 'after the work: ' + r[1])

def _failing_fsync():
    "An `os.fsync` that fails with ENOSPC (a full disk) for mrl's temporary files only."
    import errno
    real = os.fsync
    def fsync(fd):
        if os.readlink(f'/proc/self/fd/{fd}').endswith('.mrl-tmp'): raise OSError(errno.ENOSPC, 'No space left on device')
        return real(fd)
    return fsync

@case(15, "a full disk while mrl_predict_qa writes its predictions")
def _():
    from unittest import mock
    p = write_json('q_full.json', squad([{'id': 'a', 'question': 'Where?'}]))
    with mock.patch('os.fsync', _failing_fsync()):
        rc, o, e = run_inproc('mrl_predict_qa', p, '--checkpoint', tiny_reader_path(), '--out', W/'full.json', '--no-progress')
    return classify_cli(rc, o, e, 'mrl_predict_qa', 'full.json', 'No space left', 'nothing was written')

@case(15, "a full disk while mrl_train_qa writes its first checkpoint")
def _():
    from unittest import mock
    with mock.patch('os.fsync', _failing_fsync()):
        rc, o, e = run_inproc('mrl_train_qa', '--model_config', json.dumps(TINY), '--epochs', 1, '--out', W/'full_run', '--no-progress')
    return classify_cli(rc, o, e, 'mrl_train_qa', 'safetensors', 'No space left', 'epoch 1')

@case(15, "load_reader(glove='missing') / load_reader(123) / load_reader(device=0)")
def _():
    from mrl.training import load_reader
    return worst([expect_error(lambda: load_reader(glove='missing'), 'glove', 'missing'), expect_error(lambda: load_reader(123), 'path', '123'),
                  expect_error(lambda: load_reader(tiny_reader_path(), device=0), 'device')])

@case(15, "upper-case suffixes: predictions .CSV / .JSON, DATA .SAFETENSORS, eval of a .CSV")
def _():
    from mrl.training import save_predictions, load_predictions
    ref = write_json('up_ref.json', squad([{'id': 'a', 'question': 'q', 'answers': [{'text': 'France', 'answer_start': 12}]}]))
    outs = []
    for name in ('UP.CSV', 'UP.JSON'):
        p = save_predictions({'a': 'France'}, W/name)
        is_csv = p.read_text().startswith('"Id"')
        outs.append(('handled correctly', name) if (is_csv == name.endswith('CSV')) and load_predictions(p) == {'a': 'France'} else ('silent wrong', f"{name} written as {'CSV' if is_csv else 'JSON'}"))
    rc, o, e = run_inproc('mrl_eval_squad', ref, W/'UP.CSV')
    outs.append(classify_cli(rc, o, e, 'mrl_eval_squad', ok=lambda o, e: ('handled correctly', o.strip()) if '"f1": 100.0' in o else ('silent wrong', o)))
    ck = W/'READER.SAFETENSORS'; shutil.copy(tiny_reader_path(), ck)
    outs.append(classify_cli(*run_inproc('mrl_predict_qa', ck, '--checkpoint', ck, '--out', W/'x.json'), 'mrl_predict_qa', 'is a checkpoint'))
    return worst(outs)

@case(15, "Reader.answer_many('data.JSON') (an upper-case SQuAD file name)")
def _():
    p = write_json('UPPER.JSON', squad([{'id': 'a', 'question': 'Where?'}]))
    try: got = tiny_reader().answer_many(str(p), progress=False)
    except Exception as e: return ('vague error', f"{type(e).__name__}: {e}") if deliberate(e) else ('traceback', f"{type(e).__name__}: {e}")
    return ('handled correctly', 'read as a file') if isinstance(got, dict) and list(got) == ['a'] else ('silent wrong', f"read as a question: {one_line(got, 60)}")
CASES[-1].owner = 'integrator (04c _is_file_name)'

@case(15, "random_smiles('CCO', seed='a') / split_by_scaffold(None) / KmerVocab.to_hf_tokenizer")
def _():
    from mrl.chem import random_smiles, split_by_scaffold
    from mrl.smiles import KmerVocab, DNA_TRIMERS
    def kmer_hf():
        v = KmerVocab(DNA_TRIMERS, 3)
        if not hasattr(v, 'to_hf_tokenizer'): raise AttributeError("'KmerVocab' object has no attribute 'to_hf_tokenizer'")
        return v.to_hf_tokenizer(W/'kmer_hf.json')
    return worst([expect_error(lambda: random_smiles('CCO', seed='a'), 'seed'), expect_error(lambda: split_by_scaffold(None, 0.2), 'smiles'),
                  expect_error(kmer_hf, 'KmerVocab')])
CASES[-1].owner = 'data2'

@case(15, "mrl_train_qa --out a FIFO / --train a FIFO (read once) / --glove a FIFO")
def _():
    fifo = W/'train.fifo'
    if not fifo.exists(): os.mkfifo(fifo)
    return worst([classify_cli(*run_inproc('mrl_train_qa', '--out', fifo), 'mrl_train_qa', '--out', 'not a folder'),
                  classify_cli(*run_inproc('mrl_train_qa', '--glove', fifo, '--out', W/'gfifo'), 'mrl_train_qa', '--glove', 'regular file')])

# ------------------------------------------------------------------------------------------------------------ runner
GROUPS = {0: 'the notebooks\' cases', 1: 'NaN guard, divergence', 2: 'training without validation', 3: 'nothing dropped without a word',
          4: 'SMILES', 5: 'checkpoints', 6: 'command line', 7: 'one JSON reader', 8: 'predictions CSV', 9: 'vocabulary JSON',
          10: 'housekeeping', 11: 'no code from data files', 12: "the user's files", 13: 'silent results', 14: 'unbounded inputs',
          15: 'vague errors'} # groups 1-10: issue 14; 11-15: issue 18

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--group', type=int, nargs='*', help='run only these groups (0: notebook cases)')
    ap.add_argument('--keep', help='copy the work folder here at the end')
    ap.add_argument('--verbose', action='store_true', help='print each case as it runs')
    a = ap.parse_args()
    _register_nb_cases()
    todo = [c for c in CASES if not a.group or c.group in a.group]
    t_all = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): tiny_reader_path()   # fixtures, outside the cases' times
    t_fixtures, rows = time.perf_counter() - t_all, []
    for c in sorted(todo, key=lambda c: (c.group == 0, c.group)):
        t = time.perf_counter()
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()): outcome, detail = c.fn()
        except Exception as e: outcome, detail = 'traceback', f"{type(e).__name__}: {e}"
        rows.append((c.group, c.name, outcome, one_line(str(detail).replace(str(W) + os.sep, '')), time.perf_counter() - t, c.owner))
        if a.verbose: print(f"[{rows[-1][4]:5.1f} s] {c.group:>2} {outcome:17} {c.name}", file=sys.stderr)
    w = max(len(r[1]) for r in rows)
    print(f"{'grp':>3}  {'case':<{w}}  {'outcome':<17}  {'secs':>5}  detail")
    for g, name, outcome, detail, secs, owner in rows:
        print(f"{g:>3}  {name:<{w}}  {outcome:<17}  {secs:5.1f}  {detail}" + (f"  [fixed by: {owner}]" if owner and outcome in BAD else ''))
    counts = {o: sum(r[2] == o for r in rows) for o in GOOD + LIMIT + BAD}
    slow = [r for r in rows if r[4] > 60 or r[2] == 'hang']
    print(f"\n{len(rows)} cases in {time.perf_counter() - t_all:.0f} s (fixtures: a tiny training run and its reader, {t_fixtures:.0f} s): "
          + ', '.join(f"{n} {o}" for o, n in counts.items()))
    print("per group: " + '; '.join(f"{g} {GROUPS[g]}: {sum(r[0] == g for r in rows)} cases, {sum(r[0] == g and r[2] in BAD for r in rows)} bad"
                                    for g in sorted({r[0] for r in rows})))
    ck_files = list(W.rglob('*.safetensors'))
    from safetensors.torch import load_file
    def nonfinite(p):
        try: return any(t.is_floating_point() and not torch.isfinite(t).all() for t in load_file(p).values())
        except Exception: return False                                  # damaged on purpose by a case
    bad_ck = [str(p.relative_to(W)) for p in ck_files if 'forge' not in p.name and nonfinite(p)]
    kill = next((r for r in rows if r[1].startswith('kill -9')), None)
    code_ran = [r for r in rows if 'CODE RAN' in r[3]]
    print("\nTOTALS (targets in brackets)")
    for label, n, target in [('tracebacks', counts['traceback'], 0), ('silent wrong results', counts['silent wrong'], 0),
                             ('data losses', counts['data loss'], 0), ('runs over 60 s (or hangs)', len(slow), 0),
                             ('vague errors', counts['vague error'], 0), ('code run by loading a file', len(code_ran), 0),
                             ('checkpoints with non-finite weights', len(bad_ck), 0)]:
        print(f"  {label:<38} {n:>3}  ({target})")
    print(f"  {'kill -9 + --resume':<38} {kill[2] if kill else 'not run'}")
    limits = [r for r in rows if r[2] in LIMIT]
    print(f"  {'documented limits (listed separately)':<38} {len(limits):>3}")
    for r in limits: print(f"    - {r[1]}: {r[3]}")
    failing = [r for r in rows if r[2] in BAD or r in slow]
    if failing:
        print("\nSTILL FAILING, by the branch that fixes them")
        for owner in sorted({r[5] or 'this branch' for r in failing}):
            for r in failing:
                if (r[5] or 'this branch') == owner: print(f"  [{owner}] {r[0]:>2} {r[1]}: {r[2]} ({r[4]:.0f} s)")
    if a.keep: shutil.copytree(W, a.keep, dirs_exist_ok=True)
    shutil.rmtree(W, ignore_errors=True)
    return 0 if not failing and not bad_ck and not code_ran and kill and kill[2] in GOOD else 1

if __name__ == '__main__': sys.exit(main())
