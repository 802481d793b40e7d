#!/usr/bin/env python
"""Aqueous solubility on balanced scaffold splits: mrl's two tutorial models beside chemprop 2.

ESOL (MoleculeNet's delaney-processed, 1,128 molecules) and AqSolDB (9,982 compounds) are split by Bemis–Murcko
scaffold, 80/10/10, with chemprop's balanced split (`mrl.chem.split_by_scaffold`, seeds 0, 1, 2). On each split:

- `mlp`: ECFP4 (2,048 bits) → `FingerprintMLP`, through `Vec_Prediction_Dataset`;
- `lstm`: SMILES tokens → `SmilesLSTMRegressor`, through `Text_Prediction_Dataset`;
- `lstm_aug`: the same with SMILES enumeration (`augment=True`, seeded), asked with the canonical test SMILES;
  `lstm_aug_tta`: the same trained model, its predictions averaged over 10 random SMILES of each test molecule;
- `chemprop`: chemprop 2's D-MPNN with its defaults (50 epochs), trained on exactly the same parts, in its own
  virtual environment (`--chemprop PYTHON`; chemprop is not an mrl dependency).

The mrl models and their training loop are the cells of nbs/tutorial_smiles.ipynb marked "shared with
bench/property.py", executed from the notebook as written there. Everything runs on one CPU thread.

    OMP_NUM_THREADS=1 nohup python bench/property.py > runs/property.log 2>&1 &
    python bench/property.py --table          # print the stored table (bench/results/property.json)
    python bench/property.py --datasets esol --seeds 0 --models mlp,chemprop --out /tmp/p.json   # a quick check
    python bench/property.py --datasets esol --split deepchem --out bench/results/property_esol_deepchem.json
        # DeepChem's scaffold split, the MoleculeNet leaderboard's: one split, the seeds vary the models only

Data: /work/shared/data/chem/{esol-delaney,aqsoldb}.csv.gz (see SOURCES.md there), or --data DIR.
"""
import argparse, csv, json, os, platform, subprocess, sys, tempfile, time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from mrl.chem import to_mol, split_by_scaffold
from mrl.smiles import read_smiles_csv, Vec_Prediction_Dataset, Text_Prediction_Dataset

DATASETS = {'esol': ('ESOL', 'esol-delaney.csv.gz', 'smiles', 'measured log solubility in mols per litre',
                     'MoleculeNet delaney-processed (Delaney 2004)'),
            'aqsoldb': ('AqSolDB', 'aqsoldb.csv.gz', 'SMILES', 'Solubility', 'Sorkun et al. 2019, CC0')}
LABELS = {'mlp': 'ECFP4 → MLP (mrl)', 'lstm': 'SMILES → LSTM (mrl)', 'lstm_aug': 'SMILES → LSTM, enumerated (mrl)',
          'lstm_aug_tta': '… and 10 SMILES per test molecule', 'chemprop': 'chemprop 2 D-MPNN (defaults)'}
EPOCHS = {'esol': {'mlp': 80, 'lstm': 60, 'lstm_aug': 80}, 'aqsoldb': {'mlp': 50, 'lstm': 25, 'lstm_aug': 30}}
LR = {'mlp': 1e-3, 'lstm': 2e-3, 'lstm_aug': 2e-3}

def tutorial_namespace() -> dict:
    "The functions and classes of the tutorial's cells marked 'shared with bench/property.py'."
    nb = json.loads((ROOT/'nbs'/'tutorial_smiles.ipynb').read_text())
    g = {}
    exec("import math, time\nimport numpy as np\nimport torch\nimport torch.nn.functional as F\nfrom torch import nn\n"
         "from mrl.core import set_seed\nfrom mrl.chem import random_smiles\n"
         "from mrl.smiles import RegexVocab, SMILES_CHAR_VOCAB, Text_Prediction_Dataset", g)
    cells = [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code' and ''.join(c['source']).startswith('# shared with bench/property.py')]
    for src in cells: exec(src, g)
    missing = [n for n in ('regression_metrics', 'FingerprintMLP', 'SmilesLSTMRegressor', 'fit', 'predict', 'smiles_vocab', 'predict_enumerated') if n not in g]
    if missing: raise SystemExit(f"nbs/tutorial_smiles.ipynb lacks the shared definitions {missing}")
    return g

def load(key: str, data: Path):
    "Clean SMILES (stripped; unparsable ones dropped and counted) and values of a dataset."
    name, fname, scol, ycol, source = DATASETS[key]
    smiles, y = read_smiles_csv(data/fname, scol, ycol)
    smiles = [s.strip() for s in smiles]
    ok = [i for i, s in enumerate(smiles) if to_mol(s) is not None]
    return name, source, [smiles[i] for i in ok], y[ok], len(smiles) - len(ok)

def run_mrl(T, kind, smiles, y, seed, epochs, balanced=True):
    "Train one mrl model on one split; metrics on the validation and test parts, and the test predictions."
    g = T
    if kind == 'mlp':
        ds = Vec_Prediction_Dataset(smiles, y, 'ECFP4', precompute=True)
        train, valid, test = ds.split_by_scaffold(0.1, 0.1, seed=seed, balanced=balanced)
        make = lambda: g['FingerprintMLP']()
    else:
        sp = split_by_scaffold(smiles, 0.1, 0.1, seed=seed, balanced=balanced)
        vocab = g['smiles_vocab']([smiles[i] for i in sp.train_idxs], seed=seed)
        ds = Text_Prediction_Dataset(smiles, y, vocab, augment=kind == 'lstm_aug', seed=seed if kind == 'lstm_aug' else None)
        train, valid, test = ds.split_by_scaffold(0.1, 0.1, seed=seed, balanced=balanced)
        make = lambda: g['SmilesLSTMRegressor'](len(vocab), vocab.pad_idx)
    g['set_seed'](seed)   # the initial weights, too, follow the seed
    t = time.perf_counter()
    model, history = g['fit'](make(), train, valid, epochs=epochs, lr=LR[kind], seed=seed)
    train_s = time.perf_counter() - t
    dl = lambda d: d.dataloader(bs=256, device='cpu')
    out = {}
    for part, d in (('valid', valid), ('test', test)):
        pred, true = g['predict'](model, dl(d), model.y_mean, model.y_std)
        out[part] = g['regression_metrics'](true, pred)
    runs = {kind: dict(out, train_s=train_s, epochs=epochs, best_epoch=int(np.argmin(history)) + 1, test_true=true.tolist(), test_pred=pred.tolist())}
    if kind == 'lstm_aug':
        tta = {part: g['predict_enumerated'](model, d, n=10, seed=seed) for part, d in (('valid', valid), ('test', test))}
        vt = g['predict'](model, dl(valid), model.y_mean, model.y_std)[1]
        runs['lstm_aug_tta'] = {'valid': g['regression_metrics'](vt, tta['valid']), 'test': g['regression_metrics'](true, tta['test']),
                                'train_s': train_s, 'epochs': epochs, 'test_true': true.tolist(), 'test_pred': tta['test'].tolist()}
    return runs

def run_chemprop(T, python, smiles, y, seed, epochs, work: Path, balanced=True):
    "chemprop 2 on the same split (its `--splits-column`); predictions of the validation and test parts by `chemprop predict`."
    sp = split_by_scaffold(smiles, 0.1, 0.1, seed=seed, balanced=balanced)
    part = np.empty(len(smiles), object)
    part[sp.train_idxs], part[sp.valid_idxs], part[sp.test_idxs] = 'train', 'val', 'test'
    work.mkdir(parents=True, exist_ok=True)
    with open(work/'data.csv', 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['smiles', 'y', 'split'])
        for s, v, p in zip(smiles, y, part): w.writerow([s, f'{v:.6g}', p])
    evaluate = [i for i in range(len(smiles)) if part[i] in ('val', 'test')]
    with open(work/'eval.csv', 'w', newline='') as f:
        w = csv.writer(f); w.writerow(['smiles'])
        for i in evaluate: w.writerow([smiles[i]])
    cli = [str(Path(python).parent/'chemprop')]   # the environment's console script
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    t = time.perf_counter()
    subprocess.run(cli + ['train', '-i', 'data.csv', '-s', 'smiles', '--target-columns', 'y', '--splits-column', 'split', '-t', 'regression',
                          '--epochs', str(epochs), '--pytorch-seed', str(seed), '-o', 'out', '--accelerator', 'cpu', '--devices', '1', '-n', '0'],
                   cwd=work, env=env, check=True, stdout=open(work/'train.log', 'w'), stderr=subprocess.STDOUT)
    wall = time.perf_counter() - t
    subprocess.run(cli + ['predict', '-i', 'eval.csv', '--model-paths', 'out/model_0/best.pt', '-o', 'preds.csv', '--accelerator', 'cpu', '--devices', '1', '-n', '0'],
                   cwd=work, env=env, check=True, stdout=open(work/'predict.log', 'w'), stderr=subprocess.STDOUT)
    with open(work/'preds.csv') as f: preds = [float(r[-1]) for r in list(csv.reader(f))[1:]]
    if len(preds) != len(evaluate): raise SystemExit(f"chemprop predicted {len(preds)} values for {len(evaluate)} molecules ({work})")
    pred = dict(zip(evaluate, preds))
    out = {}
    for name, idxs in (('valid', sp.valid_idxs), ('test', sp.test_idxs)):
        out[name] = T['regression_metrics'](y[idxs], [pred[i] for i in idxs])
    return {'chemprop': dict(out, wall_s=wall, epochs=epochs, test_true=y[sp.test_idxs].tolist(), test_pred=[pred[i] for i in sp.test_idxs])}

def startup_seconds(python) -> float:
    "Seconds chemprop's command takes to start (imports), measured once and taken off its training time."
    t = time.perf_counter()
    subprocess.run([str(Path(python).parent/'chemprop'), 'train', '--help'], check=True, capture_output=True, env=dict(os.environ, OMP_NUM_THREADS='1'))
    return time.perf_counter() - t

def fmt(vals): return f"{np.mean(vals):.3f} ± {np.std(vals, ddof=1):.3f}" if len(vals) > 1 else f"{vals[0]:.3f}"

def print_table(res):
    for name, d in res['datasets'].items():
        print(f"\n{name}: {d['n']:,} molecules ({d['n_unparsable']} unparsable left out), test parts of {d['n_test']}; "
              f"mean ± sd over seeds {res['seeds']}; split: {res['split']}")
        print(f"{'model':36}{'test RMSE':>16}{'test MAE':>16}{'test R²':>16}{'valid RMSE':>16}{'train s':>9}")
        for model, runs in d['models'].items():
            m = lambda part, k: fmt([r[part][k] for r in runs])
            print(f"{res['labels'][model]:36}{m('test', 'rmse'):>16}{m('test', 'mae'):>16}{m('test', 'r2'):>16}{m('valid', 'rmse'):>16}"
                  f"{np.mean([r['train_s'] for r in runs]):>9.0f}")

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default='/work/shared/data/chem', help='folder holding esol-delaney.csv.gz and aqsoldb.csv.gz')
    p.add_argument('--datasets', default='esol,aqsoldb')
    p.add_argument('--seeds', default='0,1,2')
    p.add_argument('--models', default='mlp,lstm,lstm_aug,chemprop', help='mlp, lstm, lstm_aug (adds lstm_aug_tta), chemprop')
    p.add_argument('--chemprop', default='/work/venvs/chemprop/bin/python', help="python of the environment where chemprop 2 is installed")
    p.add_argument('--chemprop_epochs', type=int, default=50, help="chemprop's default")
    p.add_argument('--epochs_scale', type=float, default=1.0, help='multiply the mrl models\' epochs (for quick checks)')
    p.add_argument('--split', default='balanced', choices=['balanced', 'deepchem'], help="balanced: chemprop's, a new split per seed; deepchem: DeepChem's ScaffoldSplitter, one split (the seeds then vary only the models)")
    p.add_argument('--out', default=str(ROOT/'bench'/'results'/'property.json'))
    p.add_argument('--table', action='store_true', help='only print the table of --out')
    a = p.parse_args()
    if a.table: return print_table(json.loads(Path(a.out).read_text()))
    torch.set_num_threads(1)
    T = tutorial_namespace()
    seeds, models = [int(s) for s in a.seeds.split(',')], a.models.split(',')
    startup = startup_seconds(a.chemprop) if 'chemprop' in models else None
    balanced = a.split == 'balanced'
    res = {'seeds': seeds, 'labels': {}, 'datasets': {}, 'chemprop_startup_s': startup, 'epochs': EPOCHS, 'chemprop_epochs': a.chemprop_epochs,
           'split': (f'mrl.chem.split_by_scaffold(smiles, 0.1, 0.1, seed, balanced={balanced}) — ' + ('balanced (chemprop-style) Bemis–Murcko scaffold split, a new split per seed'
                     if balanced else "DeepChem's ScaffoldSplitter order, one split for every seed") + ', 80/10/10'),
           'machine': f"{platform.machine()}, 1 torch thread, shared 2-core VM", 'torch': torch.__version__}
    out = Path(a.out); out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for key in a.datasets.split(','):
        name, source, smiles, y, n_bad = load(key, Path(a.data))
        d = res['datasets'][name] = {'source': source, 'n': len(smiles), 'n_unparsable': n_bad, 'models': {}}
        d['n_test'] = len(split_by_scaffold(smiles, 0.1, 0.1, seed=seeds[0], balanced=balanced).test_idxs)
        for seed in seeds:
            for kind in models:
                if kind == 'chemprop':
                    with tempfile.TemporaryDirectory() as tmp:
                        runs = run_chemprop(T, a.chemprop, smiles, y, seed, a.chemprop_epochs, Path(tmp), balanced)
                    runs['chemprop']['train_s'] = runs['chemprop']['wall_s'] - startup
                else: runs = run_mrl(T, kind, smiles, y, seed, max(1, round(EPOCHS[key][kind] * a.epochs_scale)), balanced)
                for k, r in runs.items():
                    if seed != seeds[0]: r.pop('test_true'); r.pop('test_pred')   # keep the first split's predictions (parity plots)
                    else: r['test_true'], r['test_pred'] = [round(v, 4) for v in r['test_true']], [round(v, 4) for v in r['test_pred']]
                    d['models'].setdefault(k, []).append(r); res['labels'][k] = LABELS[k]
                    print(f"{name} seed {seed} {k}: test RMSE {r['test']['rmse']:.3f}, valid RMSE {r['valid']['rmse']:.3f} "
                          f"({r['train_s']:.0f} s; {time.perf_counter() - t0:.0f} s so far)", flush=True)
                res['total_minutes'] = (time.perf_counter() - t0) / 60
                out.write_text(json.dumps(res, indent=1))   # after every run: a partial table survives an interruption
    print_table(res)
    print(f"wrote {out}")

if __name__ == '__main__': main()
