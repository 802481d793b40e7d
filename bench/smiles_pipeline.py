#!/usr/bin/env python
"""SMILES → ids → SMILES for all MOSES training SMILES (1,584,663), through `mrl.dataloaders`' vectorised
`encode_batch`/`decode_batch`, side by side with the straightforward per-molecule Python loop of MRL's notebook
(tokenize → dict lookups → reconstruct), for the character and the regex (`SMILE_REGEX`) vocabularies.
Also: padding fraction of random vs length-bucketed batches (bs 256) and DataLoader batches/s with `lm_collate`.

Prints SMILES/s (median of --repeats runs for mrl; one run for the loop, in a forked process), the ratios, round-trip failures, whether
the fast ids equal the loop's ids, and the peak memory of each variant (MiB above its start, in a forked process).
Targets: regex encode >= 1,000,000 SMILES/s; 0 round-trip failures; bucketing cuts padding >= 3x.
Usage: python bench/smiles_pipeline.py [--data DIR] [--n N] [--repeats R] [--dl-batches B]
"""
import argparse, os, re, statistics, time, multiprocessing as mp
from pathlib import Path
import numpy as np, pandas as pd, torch
from mrl.dataloaders import *

# --- the straightforward loop (MRL's notebook): one molecule at a time ---------------------------------------
def loop_tokenize(kind, regex, s):
    toks = regex.findall(s) if kind == 'regex' else list(s)
    return ['bos'] + toks + ['eos']

def loop_numericalize(stoi, toks):
    out = []
    for t in toks:
        if t in stoi: out.append(stoi[t])
        else: out.append(stoi['unk'])
    return out

def loop_reconstruct(itos, ids):
    out = []
    for i in ids:
        t = itos[i]
        if t == 'eos': break
        if t != 'bos' and t != 'pad': out.append(t)
    return ''.join(out)

def loop_encode(vocab, kind, smiles):
    regex, stoi = re.compile(SMILE_REGEX), vocab.stoi
    return [loop_numericalize(stoi, loop_tokenize(kind, regex, s)) for s in smiles]

def loop_decode(vocab, ids):
    return [loop_reconstruct(vocab.itos, r) for r in ids]

# --- helpers ----------------------------------------------------------------------------------------------
def rss_mib():
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**20

_start = 0.
def reset_peak():
    "Reset the kernel's peak-RSS mark to the current RSS (a forked child otherwise inherits its parent's peak)."
    with open('/proc/self/clear_refs', 'w') as f: f.write('5')

def peak_mib():
    "Peak memory (VmHWM) of this process above `_start` (MiB)."
    with open('/proc/self/status') as f:
        hwm = next(int(l.split()[1]) for l in f if l.startswith('VmHWM:'))
    return hwm / 1024 - _start

def in_child(f, *args):
    "Run `f(*args)` in a forked process; return its result and its peak memory above its start (MiB)."
    ctx = mp.get_context('fork')
    q = ctx.Queue()
    def target():
        global _start
        reset_peak()
        _start = rss_mib()
        res = f(*args)
        q.put((res, peak_mib()))
    p = ctx.Process(target=target); p.start()
    res = q.get(); p.join()
    return res

def med(f, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter(); out = f(); times.append(time.perf_counter() - t)
    return statistics.median(times), out

def run_loop(vocab, kind, smiles):
    t0 = time.perf_counter(); ids = loop_encode(vocab, kind, smiles); t_enc = time.perf_counter() - t0
    t0 = time.perf_counter(); back = loop_decode(vocab, ids); t_dec = time.perf_counter() - t0
    fails = sum(a != b for a, b in zip(back, smiles))
    peak = peak_mib() # before padding the ids for the comparison
    padded, lens = pad_ids(ids, vocab.pad_idx)
    return t_enc, t_dec, fails, padded, lens, peak

def run_fast(vocab, smiles, repeats):
    t_enc, (ids, lens) = med(lambda: vocab.encode_batch(smiles, as_tensor=False), repeats)
    t_dec, back = med(lambda: vocab.decode_batch(ids, lens), repeats)
    fails = sum(a != b for a, b in zip(back, smiles))
    return t_enc, t_dec, fails, ids, lens

def fast_once(vocab, smiles):
    "One encode + decode (for the memory figure)."
    ids, lens = vocab.encode_batch(smiles, as_tensor=False)
    vocab.decode_batch(ids, lens)

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=Path(__file__).resolve().parents[2]/'shared'/'data', type=Path, help='folder holding moses/train.csv.gz')
    p.add_argument('--n', type=int, default=None, help='use only the first N SMILES')
    p.add_argument('--repeats', type=int, default=3, help='runs of each mrl variant (the median is reported)')
    p.add_argument('--dl-batches', type=int, default=2000, help='DataLoader batches to time')
    a = p.parse_args()
    path = a.data/'moses'/'train.csv.gz'
    smiles = pd.read_csv(path).SMILES.tolist()[:a.n]
    n = len(smiles)
    print(f"{n:,} SMILES from {path}; {os.cpu_count()} CPUs; torch {torch.__version__}")

    vocabs = {}
    for kind, make in [('char', lambda: CharacterVocab(SMILES_CHAR_VOCAB)), ('regex', lambda: RegexVocab(SMILES_CHAR_VOCAB))]:
        v = make()
        t0 = time.perf_counter(); added = v.update_vocab_from_data(smiles); t_build = time.perf_counter() - t0
        vocabs[kind] = v
        print(f"{kind} vocabulary: {len(v)} tokens ({len(added)} added from the data: {added[:8]}…) in {t_build:.2f} s")

    print(f"\n{'variant':<26}{'encode/s':>12}{'decode/s':>12}{'round-trip fails':>18}{'peak MiB':>10}")
    summary = {}
    for kind, v in vocabs.items():
        (le, ld, lf, lids, llens, lmem), _ = in_child(run_loop, v, kind, smiles)
        _, fmem = in_child(fast_once, v, smiles)
        fe, fd, ff, fids, flens = run_fast(v, smiles, a.repeats) # timed in this process (a forked child pays copy-on-write faults)
        same = lids.shape == fids.shape and np.array_equal(lids, fids) and np.array_equal(llens, flens)
        print(f"{kind + ' loop (MRL)':<26}{n/le:>12,.0f}{n/ld:>12,.0f}{lf:>18,}{lmem:>10,.0f}")
        print(f"{kind + ' mrl encode_batch':<26}{n/fe:>12,.0f}{n/fd:>12,.0f}{ff:>18,}{fmem:>10,.0f}")
        print(f"{'':<26}{le/fe:>11.1f}x{ld/fd:>11.1f}x   identical ids: {same}")
        summary[kind] = (n/fe, ff, same)
        del lids, fids

    # padding of random vs bucketed batches, bs 256, regex token lengths
    lens = vocabs['regex'].encode_batch(smiles, as_tensor=False)[1]
    bs = 256
    perm = np.random.default_rng(0).permutation(n)
    pf_random = padding_fraction(lens, [perm[i:i+bs] for i in range(0, n, bs)])
    pf_bucket = padding_fraction(lens, BucketBatchSampler(lens, bs, seed=0))
    print(f"\npadding at bs {bs} (regex tokens): random batches {pf_random:.3f}, bucketed {pf_bucket:.4f} → {pf_random/pf_bucket:.1f}x less")

    # DataLoader throughput with lm_collate
    def loader_rate(dl, k):
        it = iter(dl); next(it)
        t0 = time.perf_counter()
        for i, (x, y) in enumerate(it):
            if i + 1 >= k: break
        return (i + 1) / (time.perf_counter() - t0)
    v = vocabs['regex']
    t0 = time.perf_counter(); ds = TextDataset(smiles, v); t_ds = time.perf_counter() - t0
    print(f"TextDataset (precomputed ids) of {n:,} SMILES built in {t_ds:.2f} s")
    lazy = TextDataset(smiles, v, precompute=False)
    mrl_dl = torch.utils.data.DataLoader(lazy, batch_size=bs, shuffle=True, collate_fn=lambda b: lm_collate(b, v.pad_idx, device='cpu'))
    rates = [('MRL-style (tokenize per item, random)', loader_rate(mrl_dl, a.dl_batches)),
             ('precomputed, random batches', loader_rate(ds.dataloader(bs, bucket=False, device='cpu'), a.dl_batches)),
             ('precomputed, bucketed', loader_rate(ds.dataloader(bs, device='cpu'), a.dl_batches))]
    print(f"DataLoader, bs {bs}, lm_collate, num_workers=0, {a.dl_batches} batches:")
    for name, r in rates: print(f"  {name:<40}{r:>10,.0f} batches/s ({r*bs:,.0f} SMILES/s)")

    enc, fails, same = summary['regex']
    print(f"\nregex encode {enc:,.0f} SMILES/s (target ≥ 1,000,000): {'met' if enc >= 1e6 else 'NOT met'}")
    print(f"round-trip failures: char {summary['char'][1]}, regex {fails} (target 0); fast ids identical to loop: {summary['char'][2] and same}")
    print(f"bucketing cuts padding {pf_random/pf_bucket:.1f}x (target ≥ 3x): {'met' if pf_random/pf_bucket >= 3 else 'NOT met'}")
