"""Train the default DCN on 40 SQuAD v1.1 dev articles split by article (34 train / 6 validation).

Reports training examples/s, seconds per epoch and validation EM/F1 per epoch, and compares the training throughput
of length-bucketed batches (what `mrl` uses) with plain random batches, on the same model and data, in the same run.

    python bench/train_qa.py                                   # GPU if there is one: 20 epochs, bf16 autocast
    python bench/train_qa.py --device cpu --epochs 2 --max_train 512 --max_valid 256   # a short CPU smoke run

Targets (see the issue): validation F1 >= 45 with the default configuration, >= 5,000 training examples/s on one
H100, no divergence.
"""
import argparse, copy, json, math, statistics, sys, time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import BatchSampler, DataLoader, RandomSampler

from mrl.core import default_device, set_seed
from mrl.squad import read_squad, split_by_article, QADataset, qa_collate, load_glove
from mrl.dataloaders import padding_fraction
from mrl.training import TrainConfig, qa_learner, Learner

DATA = Path(__file__).resolve().parents[2]/'shared'/'data'/'squad'/'squad-v1.1-dev-40art.json.gz'

def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=str(DATA), help='SQuAD v1.1 JSON(.gz) to split by article (default: the 40-article dev file)')
    p.add_argument('--valid_articles', type=int, default=6, help='articles held out for validation (default 6 of 40)')
    p.add_argument('--device', default=None, help='cpu, cuda, cuda:1 ... (default: the best available)')
    p.add_argument('--epochs', type=int, default=None, help='epochs (default: 20 on a GPU, 2 on a CPU)')
    p.add_argument('--amp', action=argparse.BooleanOptionalAction, default=True, help='bf16 autocast on CUDA (default on)')
    p.add_argument('--bs', type=int, default=64, help='batch size')
    p.add_argument('--lr', type=float, default=1e-3, help='learning rate')
    p.add_argument('--model_config', default=None, help='DCNConfig overrides as JSON, e.g. \'{"hidden": 100}\'')
    p.add_argument('--max_train', type=int, default=None, help='use only the first N training questions (CPU smoke runs)')
    p.add_argument('--max_valid', type=int, default=None, help='use only the first N validation questions')
    p.add_argument('--time_limit', type=float, default=None, help='stop after the epoch that passes this many seconds')
    p.add_argument('--baseline_batches', type=int, default=8, help='batches timed for the bucketed-vs-random comparison (0: skip)')
    p.add_argument('--num_workers', type=int, default=2, help='data-loading workers')
    p.add_argument('--threads', type=int, default=None, help='torch CPU threads (default: torch\'s choice)')
    p.add_argument('--out', default='runs/bench_qa', help='run folder (checkpoints, history, plot)')
    p.add_argument('--progress', action=argparse.BooleanOptionalAction, default=True, help='progress bars (default on)')
    return p.parse_args()

def _time_steps(learn:Learner, dl, n_batches:int) -> float:
    "Training examples/s of `n_batches` steps of `learn` over `dl` (after one warm-up step)."
    learn.train_dl = dl; it = iter(dl)
    def steps(n):
        k = 0
        for _ in range(n):
            b = next(it).to(learn.device, non_blocking=True)
            with learn._autocast():
                out = learn.model(b.context_ids, b.context_lens, b.question_ids, b.question_lens)
                loss = learn.loss_func(out, b.start, b.end)
            learn.opt.zero_grad(set_to_none=True); loss.backward(); learn.opt.step(); k += len(b)
        if learn.device.type == 'cuda': torch.cuda.synchronize(learn.device)
        return k
    steps(1)
    t = time.perf_counter(); k = steps(n_batches); return k / (time.perf_counter() - t)

def main():
    a = parse()
    if a.threads: torch.set_num_threads(a.threads)
    device = default_device(a.device)
    epochs = a.epochs or (20 if device.type == 'cuda' else 2)
    t0 = time.perf_counter()
    data = read_squad(a.data)
    train, valid = split_by_article(data.examples, a.valid_articles / len({e.title for e in data.examples}), seed=0)
    n_art = (len({e.title for e in train}), len({e.title for e in valid}))
    if a.max_train: train = train[:a.max_train]
    if a.max_valid: valid = valid[:a.max_valid]
    print(f"data: {a.data}: {len(data.examples):,} questions; train {len(train):,} questions from {n_art[0]} articles, "
          f"valid {len(valid):,} from {n_art[1]} (disjoint articles); read in {time.perf_counter()-t0:.1f} s")
    print(f"device {device} ({torch.cuda.get_device_name(device) if device.type == 'cuda' else f'{torch.get_num_threads()} CPU threads'}), "
          f"torch {torch.__version__}, amp {'bf16' if a.amp and device.type == 'cuda' else 'off'}, bs {a.bs}, epochs {epochs}")
    glove = load_glove()
    mc = json.loads(a.model_config) if a.model_config else None
    cfg = TrainConfig(epochs=epochs, bs=a.bs, lr=a.lr, amp=a.amp, seed=0)
    learn = qa_learner(train, valid, cfg, mc, a.out, glove, num_workers=a.num_workers, device=str(device), progress=a.progress)
    print(f"model: {learn.model.config}; {sum(p.numel() for p in learn.params):,} trainable parameters")

    # bucketed vs random batches: same model weights, same data, same number of steps
    if a.baseline_batches:
        init = copy.deepcopy(learn.model.state_dict()); opt_init = copy.deepcopy(learn.opt.state_dict())
        ds = learn.train_dl.dataset
        rand_dl = DataLoader(ds, batch_sampler=BatchSampler(RandomSampler(ds, generator=torch.Generator().manual_seed(0)), a.bs, False),
                             collate_fn=qa_collate, num_workers=a.num_workers, pin_memory=device.type == 'cuda')
        bucket_dl = learn.train_dl
        res = {}
        for name, dl in [('random batches', rand_dl), ('bucketed batches', bucket_dl)]:
            learn.model.load_state_dict(init); learn.opt.load_state_dict(opt_init)
            res[name] = _time_steps(learn, dl, a.baseline_batches)
        learn.model.load_state_dict(init); learn.opt = type(learn.opt)(learn.params, lr=a.lr); learn.train_dl = bucket_dl
        pad_r = padding_fraction(ds.lengths(), list(BatchSampler(RandomSampler(ds, generator=torch.Generator().manual_seed(0)), a.bs, False)))
        pad_b = padding_fraction(ds.lengths(), bucket_dl.batch_sampler)
        print(f"\nthroughput over {a.baseline_batches} training steps (examples/s): random batches {res['random batches']:,.1f} "
              f"(padding {pad_r:.0%}) | bucketed {res['bucketed batches']:,.1f} (padding {pad_b:.0%}) | "
              f"ratio {res['bucketed batches']/res['random batches']:.2f}x\n")

    hist = learn.fit(epochs, time_limit=a.time_limit)
    eps = [h['examples_per_s'] for h in hist]; secs = [h['seconds'] for h in hist]
    best = max(hist, key=lambda h: h['f1'])
    print(f"\nper epoch: median {statistics.median(eps):,.1f} training examples/s, median {statistics.median(secs):.1f} s/epoch "
          f"(training only, validation excluded)")
    print(f"best validation: epoch {best['epoch']}: EM {best['exact_match']:.2f} F1 {best['f1']:.2f}")
    print(f"EM/F1 per epoch: " + ', '.join(f"{h['epoch']}: {h['exact_match']:.1f}/{h['f1']:.1f}" for h in hist))
    losses = [h['train_loss'] for h in hist]
    print(f"divergence check: {learn.bad_steps} skipped NaN/inf steps; training loss first {losses[0]:.3f}, last {losses[-1]:.3f}, "
          f"max {max(losses):.3f}")
    speed = ('met' if statistics.median(eps) >= 5000 else 'NOT met') if device.type == 'cuda' else 'not measured (no GPU)'
    print(f"targets: validation F1 >= 45: {'met' if best['f1'] >= 45 else 'NOT met'}"
          f"{' (short run)' if a.max_train or epochs < 20 else ''}; >= 5,000 training examples/s on an H100: {speed}")

if __name__ == '__main__': main()
