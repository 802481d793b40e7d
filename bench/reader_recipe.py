#!/usr/bin/env python
"""The recipe of the reader bundled with mrl (`mrl/data/reader.safetensors`), its robustness figures and its model card.

The 40 SQuAD v1.1 dev articles are split by article (seed 0) into 8 TEST articles (the same 8 as mrl 0.2's held-out
estimate), 4 VALIDATION articles and 28 TRAINING articles. Every choice — the epoch kept, the temperature and the
"no answer" threshold (`Reader.calibrate`), the number of passages read, the span decoding — is made on the
validation articles; the test articles are scored once, by `bench/robustness.py`.

Steps (each can be run alone with --step):

1. `split`: write the SQuAD files of the split into RUNS/reader-split/;
2. `today`: train today's recipe (mrl 0.2, the code of commit TODAY_CODE, checked out into a temporary worktree) on
   the 28 training articles, validating on the 4: RUNS/today-28 — the baseline of bench/robustness.py;
3. `heldout`: train the new recipe (`mrl_train_qa --preset reader`: a DCN that can say "no answer", trained with
   negatives and look-alike sentences) on the same 28 articles, validating on the 4; the run's calibrated reader is
   RUNS/reader-heldout/reader.safetensors;
4. `robustness`: bench/robustness.py on the 8 test articles, today's reader against the new one (1 thread);
5. `final`: the same recipe on 36 articles (the 28 and the 8 test ones), validating and calibrating on the 4:
   RUNS/reader/reader.safetensors;
6. `export`: that reader, with its model card's facts, into mrl/data/reader.safetensors, and the card mrl/data/READER.md.

    python bench/reader_recipe.py                      # every step (CPU: 3 trainings of about an hour; run it in the background)
    python bench/reader_recipe.py --step heldout --threads 1

Each training runs `mrl_train_qa` as a subprocess, so the run folders hold the usual checkpoints, history and plot,
and a killed step can be continued with `--resume`.
"""
import argparse, gzip, json, os, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent/'shared'/'data'/'squad'/'squad-v1.1-dev-40art.json.gz'
SPLIT_SEED, N_TEST, N_VALID = 0, 8, 4
TODAY_CODE = 'd99257a' # the last commit before issue 19: today's reader and its recipe

def split_files(data:Path, folder:Path) -> dict:
    "Write the split's SQuAD files; `{name: (path, titles)}` for train-28, valid-4, test-8 and ship-36 (train + test)."
    raw = json.loads(gzip.decompress(data.read_bytes()) if data.read_bytes()[:2] == b'\x1f\x8b' else data.read_bytes())
    order = np.random.default_rng(SPLIT_SEED).permutation(sorted(a['title'] for a in raw['data'])).tolist()
    test, valid, train = order[:N_TEST], order[N_TEST:N_TEST + N_VALID], order[N_TEST + N_VALID:]
    folder.mkdir(parents=True, exist_ok=True)
    out = {}
    for name, titles in [('train-28', train), ('valid-4', valid), ('test-8', test), ('ship-36', train + test)]:
        p = folder/f'{name}.json'
        p.write_text(json.dumps({'version': '1.1', 'data': [a for a in raw['data'] if a['title'] in set(titles)]}))
        out[name] = (p, sorted(titles))
    return out

def train(args:list, log:Path, threads:int, device:str, code:Path|None=None) -> float:
    "Run `mrl_train_qa --preset reader ARGS` (with the code in `code`, if given), its output teed into `log`; the seconds it took."
    cmd = [sys.executable, '-c', 'import sys; from mrl.core import run_command; from mrl.training import mrl_train_qa; sys.exit(run_command(mrl_train_qa, sys.argv[1:]))',
           '--preset', 'reader', '--threads', str(threads), '--device', device, '--no-progress', *map(str, args)]
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads), **({'PYTHONPATH': str(code)} if code else {})}
    print('$', ' '.join(cmd[3:]), f"(code: {code or ROOT})", flush=True)
    t = time.perf_counter()
    with open(log, 'w') as f:
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, cwd=ROOT)
        for line in p.stdout: print(line, end='', flush=True); f.write(line)
    if p.wait() != 0: sys.exit(f"mrl_train_qa failed (exit {p.returncode}); see {log}")
    return time.perf_counter() - t

def today_code() -> tuple[Path, callable]:
    "A temporary git worktree of TODAY_CODE, and the function that removes it."
    d = Path(tempfile.mkdtemp(prefix='mrl-today-'))/'mrl'
    subprocess.run(['git', '-C', str(ROOT), 'worktree', 'add', '--detach', '-f', str(d), TODAY_CODE], check=True, capture_output=True)
    return d, lambda: subprocess.run(['git', '-C', str(ROOT), 'worktree', 'remove', '--force', str(d)], capture_output=True)

CARD = """# The bundled reader

`mrl/data/reader.safetensors` is a Dynamic Coattention Network (Xiong, Zhong & Socher, ICLR 2017) trained to read
whole documents: it can say that a passage holds no answer (the coattention sentinel), its scores are calibrated
probabilities of being right, and it was trained against look-alike sentences. Load it with
`mrl.reader.load_reader()`; `mrl_ask`, `mrl_predict_qa` and `mrl_demo` use it by default.

> **Scores on SQuAD v1.1 dev overstate this reader.** It was trained on 36 of the 48 articles of the SQuAD v1.1
> development set (4 more served for validation and calibration); scored on those articles it has seen their
> questions and answers. Its honest figures on text it has not seen are the held-out ones below.

## Training data
- 36 articles of the SQuAD v1.1 development set for training and 4 for validation and calibration
  (`squad-v1.1-dev-40art.json.gz`: {n_questions:,} questions about {n_paragraphs:,} Wikipedia paragraphs in all), from SQuAD v1.1
  by Pranav Rajpurkar, Jian Zhang, Konstantin Lopyrev and Percy Liang ("SQuAD: 100,000+ Questions for Machine
  Comprehension of Text", EMNLP 2016), distributed under the Creative Commons Attribution-ShareAlike 4.0 license
  (CC BY-SA 4.0); the passages are from Wikipedia. The reader's weights are derived from this data and shared under
  the same license. Validation articles: {valid_titles}.
- Reading exercises made from that data (`mrl.reader.reading_exercises`): half of the questions also paired with
  another paragraph of their article (right answer: none), and 30% of the paragraphs given a look-alike sentence.
- Word vectors: GloVe 6B 50d (Pennington, Socher & Manning 2014, Public Domain Dedication and License), its 100,000
  most frequent words as bundled with mrl (`mrl/data/glove-6b-50d-100k.safetensors`), fixed; words the reader never
  saw get their vector when it reads them.

## Configuration
`DCNConfig` {model_config}

Training: `mrl_train_qa --preset reader` = {train_config}; {epochs} epochs on one {device_desc}, {minutes:.0f} minutes; the
epoch kept is the best on the validation articles ({best_epoch}).
Calibration on the validation articles (`Reader.calibrate`): temperature {temperature:.2f}; it says "no answer" under a
score of {threshold:.3f}, which keeps 95% of its right answers there.
Trainable parameters: {n_params:,}; file size {size_mb:.1f} MB (weights and vocabularies: {vocab_size:,} words), plus the
bundled GloVe vectors ({glove_mb:.1f} MB).

## How good it is, on articles it never saw
The same recipe trained on 28 articles (validation and calibration on the same 4), scored on 8 test articles no
choice was made on ({test_titles}), beside mrl 0.2's reader trained on the same 28 with its own recipe
(`python bench/reader_recipe.py`, whose `robustness` step runs `bench/robustness.py`, one CPU thread):

{robustness_table}

- paragraph: each question with its own paragraph (SQuAD v1.1's official metric); whole article: the same questions
  with their whole article (paragraphs joined by blank lines); distractor: the paragraph with one look-alike sentence
  appended, made by a generator whose rules were never used in training; wrong paragraph: each question paired with
  another paragraph of its article, where the reader should say "no answer"; ECE: expected calibration error of the
  score against exact match.
- On the 42 questions about six short passages written for `mrl` (`mrl/data/reader-heldback.json`, topics not in
  SQuAD's dev articles): exact match {demo_em:.1f}, F1 {demo_f1:.1f} (`mrl_demo`).
- The paper's DCN, trained on all 87,599 questions of SQuAD's training set, reached F1 75.6 on the dev set; this
  reader saw {n_train:,} questions.

## Limitations
- English only, and Wikipedia-like prose: it answers with a span of the text (at most 15 tokens), or says that it
  found none; it cannot answer yes/no or count.
- It reads a long text passage by passage (at most 300 tokens each) and only the 10 passages that BM25 ranks best
  for the question: an answer in a passage with none of the question's words can be missed.
- It learned from a few thousand questions: it often finds the right kind of answer in the wrong place, and does
  best when the question reuses the text's words.
- Its score is calibrated on 4 Wikipedia articles; on other kinds of text it is only an indication.
- Versions used: {versions}.

## Reproduce
`python bench/reader_recipe.py` (the baseline, the held-out run, the robustness figures, the shipped reader, then
this card), with seed {seed}.
"""

def robustness_table(res:dict) -> str:
    "The model card's Markdown table of bench/robustness.py's figures."
    rows = [('paragraph F1', 'paragraph_f1', '{:.1f}'), ('whole-article F1', 'article_f1', '{:.1f}'),
            ('distractor F1 (held-out generator)', 'distractor_f1', '{:.1f}'), ('  same questions without it', 'distractor_paragraph_f1', '{:.1f}'),
            ('wrong paragraph: abstains', 'wrong_abstained', '{:.0f}%'), ('right answers still given', 'right_kept', '{:.0f}%'),
            ('typographic quotes and dashes F1', 'typography_f1', '{:.1f}'), ('lower-case F1', 'lower_case_f1', '{:.1f}'),
            ('ECE (score vs exact match)', 'ece', '{:.1f}'),
            ('questions/s, whole articles', 'article_qps', '{:.2f}'), ('questions/s, paragraphs', 'paragraph_qps', '{:.1f}')]
    out = ['| on the 8 test articles | mrl 0.2 (same 28 articles) | this recipe |', '|---|---|---|']
    for label, k, f in rows: out.append(f"| {label} | {f.format(res['today'][k])} | {f.format(res['new'][k])} |")
    return '\n'.join(out)

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--data', default=str(DATA))
    p.add_argument('--step', choices=['all', 'split', 'today', 'heldout', 'robustness', 'final', 'export'], default='all')
    p.add_argument('--runs', default='runs')
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--device', default='cpu')
    a = p.parse_args()
    runs = Path(a.runs).resolve(); runs.mkdir(parents=True, exist_ok=True)
    files = split_files(Path(a.data), runs/'reader-split')
    times_file = runs/'reader-times.json'
    times = json.loads(times_file.read_text()) if times_file.exists() else {}
    step = lambda s: a.step in ('all', s)
    split_args = lambda tr: ['--train', files[tr][0], '--valid', files['valid-4'][0]]
    if step('today'):
        code, remove = today_code()
        try: times['today'] = train(split_args('train-28') + ['--out', runs/'today-28'], runs/'today-28.log', a.threads, a.device, code)
        finally: remove()
    if step('heldout'): times['heldout'] = train(split_args('train-28') + ['--out', runs/'reader-heldout'], runs/'reader-heldout.log', a.threads, a.device)
    if step('robustness'):
        subprocess.run([sys.executable, str(ROOT/'bench'/'robustness.py'), '--today', runs/'today-28'/'best.safetensors',
                        '--new', runs/'reader-heldout'/'reader.safetensors', '--data', files['test-8'][0], '--today-code', TODAY_CODE,
                        '--threads', str(a.threads), '--out', runs/'robustness.json'], check=True)
    if step('final'):
        times['final'] = train(split_args('ship-36') + ['--out', runs/'reader'], runs/'reader.log', a.threads, a.device)
        times['final_threads'] = a.threads
    times_file.write_text(json.dumps(times))
    if step('export'): export(Path(a.data), runs, files, times, a)

def export(data:Path, runs:Path, files:dict, times:dict, a):
    from mrl.core import DATA_DIR
    from mrl.squad import read_squad, BUNDLED_GLOVE
    from mrl.reader import load_reader, export_reader, read_questions, HELDBACK_SAMPLE, BUNDLED_READER
    from mrl.evaluation import squad_metrics
    from mrl.checkpoints import load_checkpoint
    res = json.loads((runs/'robustness.json').read_text())
    shipped = load_reader(runs/'reader'/'reader.safetensors', 'cpu')
    m = shipped.meta; cal = shipped.calibration
    new = res['new']
    card = {'summary': f"DCN that can say \"no answer\", {m['model_config']['hidden']} hidden units, trained on 36 SQuAD v1.1 dev articles; "
                       f"held-out F1 {new['paragraph_f1']:.1f} (paragraphs), {new['article_f1']:.1f} (whole articles)",
            'heldout': {'f1': new['paragraph_f1'], 'article_f1': new['article_f1'], 'articles': files['test-8'][1]},
            'robustness': res, 'training_data': 'squad-v1.1-dev-40art.json.gz (36 + 4 SQuAD v1.1 dev articles, CC BY-SA 4.0)',
            'license': 'CC BY-SA 4.0'}
    out = export_reader(runs/'reader'/'reader.safetensors', DATA_DIR/BUNDLED_READER, card)
    r = load_reader(out, 'cpu')
    ex = read_questions(DATA_DIR/HELDBACK_SAMPLE)
    ans = r.answer_many([(e.question, e.context) for e in ex], progress=False, abstain=False)
    demo = squad_metrics({e.qid: x.text for e, x in zip(ex, ans)}, {e.qid: e.answer_texts for e in ex}, warn=False)
    sq = read_squad(data)
    best = m['history'][m['best_epoch'] - 1]
    text = CARD.format(n_questions=len(sq.examples), n_paragraphs=sq.n_paragraphs, valid_titles=', '.join(files['valid-4'][1]),
                       model_config=json.dumps(m['model_config']),
                       train_config=json.dumps({k: m['train_config'][k] for k in ('epochs', 'bs', 'lr', 'opt', 'schedule', 'warmup', 'clip', 'seed', 'negatives', 'lookalikes')}),
                       epochs=m['epoch'], best_epoch=f"epoch {m['best_epoch']}, F1 {best['f1']:.1f} on the validation articles",
                       device_desc=f"{a.device.upper()} ({times.get('final_threads', a.threads)} thread(s))" if a.device == 'cpu' else a.device,
                       minutes=times.get('final', float('nan')) / 60, temperature=cal['temperature'], threshold=cal['threshold'],
                       n_params=sum(t.numel() for n, t in r.model.named_parameters() if t.requires_grad),
                       size_mb=out.stat().st_size / 2**20, glove_mb=(DATA_DIR/BUNDLED_GLOVE).stat().st_size / 2**20,
                       vocab_size=m['model_config']['vocab_size'], test_titles=', '.join(files['test-8'][1]),
                       robustness_table=robustness_table(res), demo_em=demo['exact_match'], demo_f1=demo['f1'],
                       n_train=m.get('data', {}).get('n_train', 0), versions=json.dumps(m.get('versions', {})), seed=m['train_config']['seed'])
    (DATA_DIR/'READER.md').write_text(text)
    print(f"wrote {out} ({out.stat().st_size/2**20:.1f} MB) and {DATA_DIR/'READER.md'}; held-out paragraph F1 {new['paragraph_f1']:.1f}, "
          f"whole-article F1 {new['article_f1']:.1f}; held-back demo passages EM {demo['exact_match']:.1f} F1 {demo['f1']:.1f}")

if __name__ == '__main__': main()
