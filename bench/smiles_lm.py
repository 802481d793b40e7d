#!/usr/bin/env python
"""Train mrl's SMILES language model on a MOSES training subset on one CPU thread, sample 10,000 SMILES and score
them with the MOSES metrics (computed by `mrl.smiles_lm.generation_metrics`), beside the MOSES paper's CharRNN row.

    OMP_NUM_THREADS=1 nohup python bench/smiles_lm.py > runs/smiles_lm.log 2>&1 &                 # ~30 min
    OMP_NUM_THREADS=1 nohup python bench/smiles_lm.py --n_train 1000000 --minutes 150 --name smiles_lm_long ... &
    python bench/smiles_lm.py --table                                                               # print the stored results

Writes bench/results/NAME.json (configuration, data, timings, history, metrics, example samples) and the model to
runs/NAME/model.safetensors (not committed; sample from it with `mrl_sample runs/NAME/model.safetensors`).
Data: /work/shared/data/moses/{train,test}.csv.gz (MOSES, molsets 0.3.1; see SOURCES.md there), or --moses DIR.
"""
import argparse, json, platform, sys, time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from mrl.core import set_seed
from mrl.smiles import RegexVocab, SMILES_CHAR_VOCAB, Text_Dataset, read_smiles_csv
from mrl.smiles_lm import LMConfig, SmilesLM, train_lm, evaluate_lm, sample_smiles, save_lm, generation_metrics, scaffold_counts

# MOSES paper (Polykovskiy et al., Front. Pharmacol. 2020, Table 2) and the molecularsets/moses README: CharRNN,
# mean ± sd over 3 runs, 30,000 samples each, trained on the 1.58M-molecule MOSES train set (3-layer LSTM, 768 units)
MOSES_CHARRNN = {'valid': (0.9748, 0.0264), 'unique': (0.9994, 0.0003), 'novelty': (0.8419, 0.0509),
                 'intdiv1': (0.8562, 0.0005), 'scaf_test': (0.9242, 0.0058)}
MOSES_TRAIN_ROW = {'intdiv1': 0.8567, 'scaf_test': 0.9907}   # the same metrics of MOSES' train set itself (its README's "Train" row)

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--moses', default='/work/shared/data/moses', help='folder holding train.csv.gz and test.csv.gz')
    p.add_argument('--name', default='smiles_lm', help='results name: bench/results/NAME.json, runs/NAME/')
    p.add_argument('--n_train', type=int, default=250_000, help='training molecules drawn from MOSES train')
    p.add_argument('--n_valid', type=int, default=5_000, help='held-out MOSES train molecules for the validation loss')
    p.add_argument('--epochs', type=int, default=1)
    p.add_argument('--minutes', type=float, default=27., help='training time budget (the schedule follows the clock)')
    p.add_argument('--bs', type=int, default=128)
    p.add_argument('--lr', type=float, default=3e-3)
    p.add_argument('--d_embed', type=int, default=64)
    p.add_argument('--d_hidden', type=int, default=256)
    p.add_argument('--n_layers', type=int, default=2)
    p.add_argument('--dropout', type=float, default=0.0)
    p.add_argument('--n_samples', type=int, default=10_000)
    p.add_argument('--temperatures', default='1.0,0.8', help='comma-separated; the first is the headline (MOSES samples at 1)')
    p.add_argument('--n_test', type=int, default=0, help='use only this many MOSES test molecules for the scaffold metrics (0: all; for smoke runs)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1)
    p.add_argument('--table', action='store_true', help='only print the stored results of NAME')
    a = p.parse_args()
    out_json = ROOT/'bench'/'results'/f'{a.name}.json'
    if a.table: return print_table(json.loads(out_json.read_text()))
    torch.set_num_threads(a.threads); set_seed(a.seed)
    t0 = time.perf_counter()
    train_all, _ = read_smiles_csv(Path(a.moses)/'train.csv.gz')
    test, _ = read_smiles_csv(Path(a.moses)/'test.csv.gz')
    if a.n_test: test = test[:a.n_test]
    rng = np.random.default_rng(a.seed)
    pick = rng.choice(len(train_all), a.n_train + a.n_valid, replace=False)
    train = [train_all[i] for i in pick[:a.n_train]]; valid = [train_all[i] for i in pick[a.n_train:]]
    print(f"MOSES train {len(train_all):,}, test {len(test):,}; using {len(train):,} to train, {len(valid):,} to validate "
          f"(read in {time.perf_counter()-t0:.0f} s)", flush=True)
    vocab = RegexVocab(SMILES_CHAR_VOCAB); vocab.update_vocab_from_data(train)
    train_dl = Text_Dataset(train, vocab).dataloader(bs=a.bs, shuffle=True, seed=a.seed, device='cpu')
    valid_dl = Text_Dataset(valid, vocab).dataloader(bs=500, device='cpu')
    config = LMConfig(len(vocab), a.d_embed, a.d_hidden, a.n_layers, a.dropout, vocab.pad_idx)
    model = SmilesLM(config)
    print(f"{vocab}\n{model.n_params():,} parameters; {len(train_dl):,} batches of {a.bs} per epoch", flush=True)
    t = time.perf_counter()
    history = train_lm(model, train_dl, valid_dl, epochs=a.epochs, lr=a.lr, max_minutes=a.minutes, log_every=100, progress=False)
    train_s = time.perf_counter() - t
    seen = history[-1]['step'] * a.bs
    print(f"trained {history[-1]['step']:,} steps ({seen:,} SMILES, {seen/len(train):.2f} epochs) in {train_s/60:.1f} min; "
          f"valid loss {history[-1]['valid_loss']:.3f} nats/token", flush=True)
    run = ROOT/'runs'/a.name; run.mkdir(parents=True, exist_ok=True)
    meta = {'data': f'MOSES train, {a.n_train:,} molecules drawn with seed {a.seed}', 'history': history}
    save_lm(run/'model.safetensors', model, vocab, meta)
    t = time.perf_counter()
    test_scaf = scaffold_counts(test, min_rings=1)
    train_set, subset = set(train_all), set(train)   # MOSES' train SMILES are RDKit-canonical (MOSES compares them as stored)
    print(f"test scaffolds in {time.perf_counter()-t:.0f} s", flush=True)
    results = []
    for temp in [float(x) for x in a.temperatures.split(',')]:
        t = time.perf_counter()
        samples = sample_smiles(model, vocab, a.n_samples, temperature=temp, seed=a.seed, progress=False)
        sample_s = time.perf_counter() - t
        m = generation_metrics(samples, train=train_set, test_scaffolds=test_scaf)
        m['novelty_vs_subset'] = generation_metrics(samples, train=subset)['novelty']
        results.append({'temperature': temp, 'sample_s': sample_s, 'metrics': m, 'examples': samples[:12]})
        print(f"T={temp}: " + ', '.join(f"{k} {v:.4f}" for k, v in m.items() if isinstance(v, float)) + f" (sampled in {sample_s:.0f} s)", flush=True)
    res = {'name': a.name, 'args': vars(a), 'config': config.__dict__, 'vocab_size': len(vocab), 'n_params': model.n_params(),
           'n_train': len(train), 'n_valid': len(valid), 'steps': history[-1]['step'], 'smiles_seen': seen, 'train_minutes': train_s/60,
           'valid_loss': history[-1]['valid_loss'], 'history': history, 'results': results,
           'moses_charrnn': MOSES_CHARRNN, 'moses_train_row': MOSES_TRAIN_ROW,
           'machine': f"{platform.processor() or platform.machine()}, {a.threads} torch thread(s), shared 2-core VM",
           'versions': {'torch': torch.__version__, 'python': platform.python_version()},
           'total_minutes': (time.perf_counter() - t0) / 60}
    out_json.write_text(json.dumps(res, indent=1))
    print_table(res)
    print(f"wrote {out_json} and {run/'model.safetensors'}")

def print_table(res):
    print(f"\n{res['name']}: {res['n_params']:,} parameters, {res['smiles_seen']:,} SMILES seen in {res['train_minutes']:.1f} min "
          f"(1 thread), valid loss {res['valid_loss']:.3f}")
    keys = ['valid', 'unique', 'novelty', 'intdiv1', 'scaf_test', 'scaffolds_in_test']
    print(f"{'':22}" + ''.join(f"{k:>19}" for k in keys))
    for r in res['results']:
        print(f"{'mrl T=' + str(r['temperature']):22}" + ''.join(f"{r['metrics'][k]:>19.4f}" for k in keys))
    ch = res['moses_charrnn']
    print(f"{'MOSES CharRNN (paper)':22}" + ''.join(f"{(f'{ch[k][0]:.4f}±{ch[k][1]:.4f}' if k in ch else '—'):>19}" for k in keys))

if __name__ == '__main__': main()
