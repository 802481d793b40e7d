#!/usr/bin/env python
"""Learning quality of the DCN reader on articles it never trained on, and the ablation of its input options.

The 40 SQuAD v1.1 dev articles are split BY ARTICLE, once, with a fixed seed, into
    train 26 articles | dev 6 articles | test 8 articles.
The ablation (every option on and off, same seed, same epochs, same split) trains on `train` and scores on `dev`:
that is where the defaults are chosen. The chosen recipe is then trained on train+dev (32 articles) and scored once
on `test`, which nothing was tuned on: that is the held-out estimate. (The shipped reader then trains on all 40.)

    python bench/train_qa.py --variant paper            # one ablation run (runs/ablation/paper/history.json)
    python bench/train_qa.py --variant all --threads 1  # ... run two at a time with one thread each
    python bench/train_qa.py --table                    # collect the runs: table + plot of F1 per epoch
    python bench/train_qa.py --heldout default          # recipe on train+dev, scored on test (the estimate)

Variants are DCNConfig overrides on top of the ablation's base model (hidden 100, pool 4: several times faster on
a CPU than the paper's 200/16, which loses little on this much data); see VARIANTS. Every run prints its EM/F1 per
epoch and writes history.json, so the table can be rebuilt at any time. Timings are per-epoch wall clock.
"""
import argparse, json, math, statistics, sys, time
from pathlib import Path

import numpy as np
import torch

from mrl.core import set_seed
from mrl.squad import read_squad
from mrl.training import TrainConfig, qa_learner, squad_metrics

DATA = Path(__file__).resolve().parents[2]/'shared'/'data'/'squad'/'squad-v1.1-dev-40art.json.gz'
SPLIT_SEED, N_DEV, N_TEST = 0, 6, 8
BASE = {'hidden': 100, 'pool': 4}
PAPER_OFF = {'exact_match': False, 'aligned_question': False, 'chars': False, 'tune_top_k': 0, 'coattention_layers': 1,
             'no_answer': False, 'features_at_fusion': False}   # the ablation (mrl 0.2) compared input features on the paper's architecture
VARIANTS = {
    'paper':         {},                                                     # the paper's DCN (words only), at the ablation's size
    'exact_match':   {'exact_match': True},
    'aligned':       {'aligned_question': True},
    'chars':         {'chars': True},
    'tune_top_k':    {'tune_top_k': 1000},
    'exact_match+aligned': {'exact_match': True, 'aligned_question': True}, # DCNConfig's defaults
    'dcn_plus':      {'coattention_layers': 2},
    'all':           {'exact_match': True, 'aligned_question': True, 'chars': True, 'tune_top_k': 1000, 'coattention_layers': 2},
    'all-exact_match': {'aligned_question': True, 'chars': True, 'tune_top_k': 1000, 'coattention_layers': 2},
    'all-aligned':   {'exact_match': True, 'chars': True, 'tune_top_k': 1000, 'coattention_layers': 2},
    'all-chars':     {'exact_match': True, 'aligned_question': True, 'tune_top_k': 1000, 'coattention_layers': 2},
    'all-tune_top_k': {'exact_match': True, 'aligned_question': True, 'chars': True, 'coattention_layers': 2},
    'all-dcn_plus':  {'exact_match': True, 'aligned_question': True, 'chars': True, 'tune_top_k': 1000},
}
TRAIN = dict(epochs=12, bs=32, lr=2e-3, schedule='cosine', warmup=0.05, clip=5.0, seed=0, negatives=0., lookalikes=0.)   # no reading exercises (mrl 0.2's training)

def split_articles(examples):
    "`(train, dev, test)` examples of disjoint articles: a fixed shuffle of the sorted titles."
    titles = sorted({e.title for e in examples})
    order = np.random.default_rng(SPLIT_SEED).permutation(titles).tolist()
    test, dev = set(order[:N_TEST]), set(order[N_TEST:N_TEST + N_DEV])
    pick = lambda s: [e for e in examples if e.title in s]
    return pick(set(order[N_TEST + N_DEV:])), pick(dev), pick(test)

def run(name, mc, train, valid, out, epochs, threads, progress):
    if threads: torch.set_num_threads(threads)
    cfg = TrainConfig(**{**TRAIN, 'epochs': epochs})
    print(f"== {name}: model {mc}; training {cfg.to_dict()}; {len(train):,} training and {len(valid):,} scored questions; "
          f"{torch.get_num_threads()} thread(s)", flush=True)
    set_seed(cfg.seed)
    t0 = time.perf_counter()
    learn = qa_learner(train, valid, cfg, mc, out, max_context_len=600, progress=progress)
    n_params = sum(p.numel() for p in learn.params)
    learn.fit(overwrite=True)                     # a rerun of a variant replaces its run files
    hist = learn.history
    best = max(hist, key=lambda h: h['f1'])
    res = {'variant': name, 'model_config': mc, 'train_config': cfg.to_dict(), 'n_train': len(learn.train_dl.dataset),
           'n_scored': len(valid), 'trainable_parameters': n_params, 'history': hist, 'best_epoch': best['epoch'],
           'best_f1': best['f1'], 'best_em': best['exact_match'], 'last_f1': hist[-1]['f1'], 'last_em': hist[-1]['exact_match'],
           'seconds': time.perf_counter() - t0, 'torch': torch.__version__, 'threads': torch.get_num_threads()}
    (Path(out)/'result.json').write_text(json.dumps(res, indent=1))
    print(f"{name}: best epoch {best['epoch']}: EM {best['exact_match']:.2f} F1 {best['f1']:.2f}; last EM {hist[-1]['exact_match']:.2f} "
          f"F1 {hist[-1]['f1']:.2f}; {res['seconds']/60:.1f} min", flush=True)
    return res

def partial_result(folder:Path) -> dict:
    "The row of a run that stopped before its last epoch (no result.json): what its history.json holds, marked incomplete."
    hist = json.loads((folder/'history.json').read_text())
    best = max(hist, key=lambda h: h['f1'])
    return {'variant': folder.name, 'model_config': {**BASE, **PAPER_OFF, **VARIANTS.get(folder.name, {})}, 'train_config': None,
            'trainable_parameters': None, 'history': hist, 'best_epoch': best['epoch'], 'best_f1': best['f1'], 'best_em': best['exact_match'],
            'last_f1': hist[-1]['f1'], 'last_em': hist[-1]['exact_match'], 'seconds': sum(h['seconds'] for h in hist), 'complete': False}

def table(root):
    "Print the ablation table of the runs under `root` and write ablation.json and f1_per_epoch.png there (runs cut short count, marked)."
    done = {p.parent for p in Path(root).glob('*/result.json')}
    rows = [json.loads((d/'result.json').read_text()) | {'complete': True} for d in sorted(done)]
    rows += [partial_result(p.parent) for p in sorted(Path(root).glob('*/history.json')) if p.parent not in done]
    if not rows: sys.exit(f"no results under {root}")
    rows.sort(key=lambda r: list(VARIANTS).index(r['variant']) if r['variant'] in VARIANTS else 99)
    base = next((r for r in rows if r['variant'] == 'paper'), None)
    print(f"{'variant':<18}{'EM':>7}{'F1':>7}{'ΔF1':>7}{'best ep':>9}{'epochs':>8}{'last F1':>9}{'params':>10}{'min':>7}")
    for r in rows:
        d = r['best_f1'] - base['best_f1'] if base else float('nan')
        params = f"{r['trainable_parameters']:,}" if r['trainable_parameters'] else '-'
        print(f"{r['variant']:<18}{r['best_em']:>7.2f}{r['best_f1']:>7.2f}{d:>+7.2f}{r['best_epoch']:>9}{len(r['history']):>7}{'' if r['complete'] else '*'}"
              f"{r['last_f1']:>9.2f}{params:>10}{r['seconds']/60:>7.1f}")
    if not all(r["complete"] for r in rows): print("* stopped before its last epoch (its minutes count training only, no scoring)")
    from matplotlib.figure import Figure
    fig = Figure(figsize=(7, 4), layout='tight'); ax = fig.subplots()
    for r in rows: ax.plot([h['epoch'] for h in r['history']], [h['f1'] for h in r['history']], marker='o', ms=3, label=r['variant'])
    ax.set(xlabel='epoch', ylabel='dev F1 (6 held-out articles)', title='Ablation: F1 per epoch'); ax.legend(fontsize=7)
    fig.savefig(Path(root)/'f1_per_epoch.png', dpi=100)
    summary = [{k: r[k] for k in ('variant', 'model_config', 'best_em', 'best_f1', 'best_epoch', 'last_em', 'last_f1', 'trainable_parameters', 'seconds', 'complete')}
               | {'f1_per_epoch': [round(h['f1'], 2) for h in r['history']]} for r in rows]
    (Path(root)/'ablation.json').write_text(json.dumps({'split': f'train 26 / dev 6 articles (seed {SPLIT_SEED})', 'train_config': next(r['train_config'] for r in rows if r['train_config']),
                                                        'base_model': BASE, 'runs': summary}, indent=1))
    print(f"wrote {Path(root)/'ablation.json'} and {Path(root)/'f1_per_epoch.png'}")

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=str(DATA))
    p.add_argument('--variant', choices=list(VARIANTS), help='one ablation run (train 26 articles, score on dev 6)')
    p.add_argument('--heldout', metavar='VARIANT', help="train VARIANT ('default': DCNConfig's defaults) on train+dev, score on test")
    p.add_argument('--model_config', default=None, help='extra DCNConfig overrides as JSON (with --heldout)')
    p.add_argument('--table', action='store_true', help='collect the ablation runs')
    p.add_argument('--root', default='runs/ablation')
    p.add_argument('--epochs', type=int, default=TRAIN['epochs'])
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--progress', action=argparse.BooleanOptionalAction, default=False)
    p.add_argument('--max_train', type=int, default=None, help='smoke test: only the first N training questions (and N/4 scored)')
    a = p.parse_args()
    if a.table: return table(a.root)
    data = read_squad(a.data)
    train, dev, test = split_articles(data.examples)
    print(f"{a.data}: {len(data.examples):,} questions; train {len(train):,} ({len({e.title for e in train})} articles), "
          f"dev {len(dev):,} ({len({e.title for e in dev})}), test {len(test):,} ({len({e.title for e in test})}); split by article, seed {SPLIT_SEED}")
    if a.max_train: train = train[:a.max_train]; dev = dev[:a.max_train // 4]
    if a.variant: run(a.variant, {**BASE, **PAPER_OFF, **VARIANTS[a.variant]}, train, dev, Path(a.root)/a.variant, a.epochs, a.threads, a.progress)
    elif a.heldout:
        ov = {} if a.heldout == 'default' else {**BASE, **PAPER_OFF, **VARIANTS[a.heldout]}
        if a.model_config: ov.update(json.loads(a.model_config))
        res = run(f'heldout-{a.heldout}', ov, train + dev, test, Path(a.root).parent/f'heldout-{a.heldout}', a.epochs, a.threads, a.progress)
        print(f"held-out estimate (8 test articles, never used for any choice): EM {res['last_em']:.2f} F1 {res['last_f1']:.2f} at the last epoch")
    else: p.error('give --variant, --heldout or --table')

if __name__ == '__main__': main()
