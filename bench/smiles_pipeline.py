#!/usr/bin/env python
"""SMILES → ids → SMILES for all MOSES training SMILES (1,584,663), through `mrl.dataloaders`' vectorised
`encode_batch`/`decode_batch`, side by side with the straightforward per-molecule Python loop of MRL's notebook
(tokenize → dict lookups → reconstruct), for the character and the regex (`SMILE_REGEX`) vocabularies.
Also: padding fraction of random vs length-bucketed batches (bs 256) and DataLoader batches/s with `lm_collate`;
SMILES enumeration (`mrl.chem.random_smiles`, the `augment=True` of `TextDataset`) on 2 worker processes, with a seed
per molecule and without one (the default): SMILES/s and the share of augmented SMILES that canonicalise back to the
input's molecule; the unseeded augmented `TextDataset` through a 2-worker DataLoader; the scaffold split
(`mrl.chem.split_by_scaffold`, 2 workers) of the MOSES test set (176,074): time, scaffolds, part sizes, scaffolds
shared between parts.

Prints SMILES/s (median of --repeats runs for mrl; one run for the loop, in a forked process), the ratios, round-trip failures, whether
the fast ids equal the loop's ids, and the peak memory of each variant (MiB above its start, in a forked process).
Targets: regex encode >= 18x the loop in the same run (and >= 1,000,000 SMILES/s); 0 round-trip failures; bucketing
cuts padding >= 3x; augmented SMILES round-trip 100%; scaffolds shared between split parts 0.
Usage: python bench/smiles_pipeline.py [--data DIR] [--n N] [--repeats R] [--dl-batches B] [--n-enum N] [--skip-encode] [--skip-chem]
"""
import argparse, os, re, statistics, time, multiprocessing as mp
from pathlib import Path
import numpy as np, pandas as pd, torch
from mrl.dataloaders import *
from mrl.core import parallel_map

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

# --- SMILES enumeration and scaffold split --------------------------------------------------------------------
def enum_chunk(args):
    "Random SMILES of a chunk (seeded per molecule, or `random_smiles`'s default, no seed), in a worker process."
    from mrl.chem import random_smiles
    smiles, seed = args
    return [random_smiles(s, seed + i) for i, s in enumerate(smiles)] if seed is not None else [random_smiles(s) for s in smiles]

def same_molecule_chunk(pairs):
    "Whether each (input, augmented) pair canonicalises to the same molecule, in a worker process."
    from mrl.chem import canon_smiles
    return [r is not None and canon_smiles(r) == canon_smiles(s) for s, r in pairs]

def enumeration(smiles, n_workers, seeded=True, chunk=2000):
    "SMILES/s of random_smiles on `n_workers` processes (with a seed per molecule, or none), and the round-trip share."
    jobs = [(smiles[i:i+chunk], i if seeded else None) for i in range(0, len(smiles), chunk)]
    t0 = time.perf_counter()
    out = [r for part in parallel_map(enum_chunk, jobs, n_workers=n_workers, chunksize=1, progress=False) for r in part]
    t_enum = time.perf_counter() - t0
    pairs = list(zip(smiles, out))
    ok = [b for part in parallel_map(same_molecule_chunk, [pairs[i:i+chunk] for i in range(0, len(pairs), chunk)],
                                     n_workers=n_workers, chunksize=1, progress=False) for b in part]
    changed = sum(a != b for a, b in pairs)
    return len(smiles) / t_enum, sum(ok), changed, sum(r is None for r in out)

def augmented_loader_rate(smiles, vocab, bs, n_batches, n_workers, seed=0):
    "SMILES/s through an augmented TextDataset's shuffled DataLoader with `n_workers` worker processes."
    ds = TextDataset(smiles, vocab, augment=True, seed=seed)
    dl = ds.dataloader(bs, shuffle=True, num_workers=n_workers, device='cpu')
    it = iter(dl); next(it)
    t0 = time.perf_counter()
    for i, _ in enumerate(it):
        if i + 1 >= n_batches: break
    return (i + 1) * bs / (time.perf_counter() - t0)

def scaffold_split_figures(path, n_workers):
    "Time, scaffolds, part sizes and scaffolds shared between parts of the scaffold split of `path`'s SMILES."
    from mrl.chem import split_by_scaffold
    smiles = pd.read_csv(path).SMILES.tolist()
    rows = []
    for balanced in (True, False):
        t0 = time.perf_counter()
        sp = split_by_scaffold(smiles, 0.1, 0.1, seed=0, balanced=balanced, n_workers=n_workers)
        dt = time.perf_counter() - t0
        parts = [{sp.groups[i] for i in idx} for idx in (sp.train_idxs, sp.valid_idxs, sp.test_idxs)]
        shared = len(parts[0] & parts[1]) + len(parts[0] & parts[2]) + len(parts[1] & parts[2])
        covered = len(sp.train_idxs) + len(sp.valid_idxs) + len(sp.test_idxs) + len(sp.failed_idxs)
        rows.append((balanced, dt, sp, shared, covered))
    return len(smiles), rows

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=Path(__file__).resolve().parents[2]/'shared'/'data', type=Path, help='folder holding moses/train.csv.gz')
    p.add_argument('--n', type=int, default=None, help='use only the first N SMILES')
    p.add_argument('--repeats', type=int, default=3, help='runs of each mrl variant (the median is reported)')
    p.add_argument('--dl-batches', type=int, default=2000, help='DataLoader batches to time')
    p.add_argument('--n-enum', type=int, default=200_000, help='SMILES enumerated for the enumeration figures')
    p.add_argument('--skip-encode', action='store_true', help='only the enumeration and scaffold-split figures')
    p.add_argument('--skip-chem', action='store_true', help='without the enumeration and scaffold-split figures')
    a = p.parse_args()
    torch.set_num_threads(1)
    path = a.data/'moses'/'train.csv.gz'
    smiles = pd.read_csv(path).SMILES.tolist()[:a.n]
    n = len(smiles)
    print(f"{n:,} SMILES from {path}; {os.cpu_count()} CPUs; torch {torch.__version__}")

    vocabs, summary = {}, {}
    for kind, make in [('char', lambda: CharacterVocab(SMILES_CHAR_VOCAB)), ('regex', lambda: RegexVocab(SMILES_CHAR_VOCAB))]:
        v = make()
        t0 = time.perf_counter(); added = v.update_vocab_from_data(smiles); t_build = time.perf_counter() - t0
        vocabs[kind] = v
        print(f"{kind} vocabulary: {len(v)} tokens ({len(added)} added from the data: {added[:8]}…) in {t_build:.2f} s")

    if not a.skip_encode: print(f"\n{'variant':<26}{'encode/s':>12}{'decode/s':>12}{'round-trip fails':>18}{'peak MiB':>10}")
    for kind, v in (vocabs.items() if not a.skip_encode else []):
        (le, ld, lf, lids, llens, lmem), _ = in_child(run_loop, v, kind, smiles)
        _, fmem = in_child(fast_once, v, smiles)
        fe, fd, ff, fids, flens = run_fast(v, smiles, a.repeats) # timed in this process (a forked child pays copy-on-write faults)
        same = lids.shape == fids.shape and np.array_equal(lids, fids) and np.array_equal(llens, flens)
        print(f"{kind + ' loop (MRL)':<26}{n/le:>12,.0f}{n/ld:>12,.0f}{lf:>18,}{lmem:>10,.0f}")
        print(f"{kind + ' mrl encode_batch':<26}{n/fe:>12,.0f}{n/fd:>12,.0f}{ff:>18,}{fmem:>10,.0f}")
        print(f"{'':<26}{le/fe:>11.1f}x{ld/fd:>11.1f}x   identical ids: {same}")
        summary[kind] = (n/fe, ff, same, le/fe)
        del lids, fids

    # SMILES enumeration (2 worker processes) and the scaffold split of the MOSES test set
    if not a.skip_chem:
        n_enum = min(a.n_enum, n)
        print()
        for seeded in (True, False):
            rate, n_same, n_changed, n_none = enumeration(smiles[:n_enum], 2, seeded)
            print(f"SMILES enumeration, random_smiles {'with a seed per molecule' if seeded else 'without a seed (default)'} on 2 worker "
                  f"processes, {n_enum:,} MOSES SMILES: {rate:,.0f} SMILES/s; {n_changed/n_enum:.1%} differ from the input; round-trip "
                  f"to the same canonical molecule {n_same:,}/{n_enum:,} ({n_same/n_enum:.3%}); {n_none} did not parse")
        for seed in (0, None):
            aug_rate = augmented_loader_rate(smiles[:n_enum], vocabs['regex'], 256, 200, 2, seed)
            print(f"augmented TextDataset (seed={seed}), shuffled DataLoader, 2 workers, bs 256, 200 batches: {aug_rate:,.0f} SMILES/s")
        n_test, rows = scaffold_split_figures(a.data/'moses'/'test.csv.gz', 2)
        for balanced, dt, sp, shared, covered in rows:
            print(f"scaffold split of MOSES test ({n_test:,}), 80/10/10, {'balanced (chemprop)' if balanced else 'largest first (DeepChem)'}, "
                  f"2 workers: {dt:.1f} s; {sp.n_groups:,} scaffolds; train/valid/test {len(sp.train_idxs):,}/{len(sp.valid_idxs):,}/"
                  f"{len(sp.test_idxs):,}; {len(sp.failed_idxs)} failed; scaffolds shared between parts {shared} (target 0); "
                  f"every molecule placed once: {covered == n_test}")
    if a.skip_encode: raise SystemExit

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
             ('precomputed, random batches', loader_rate(ds.dataloader(bs, shuffle=True, bucket=False, device='cpu'), a.dl_batches)),
             ('precomputed, bucketed', loader_rate(ds.dataloader(bs, shuffle=True, device='cpu'), a.dl_batches))]
    print(f"DataLoader, bs {bs}, lm_collate, num_workers=0, {a.dl_batches} batches:")
    for name, r in rates: print(f"  {name:<40}{r:>10,.0f} batches/s ({r*bs:,.0f} SMILES/s)")

    enc, fails, same, ratio = summary['regex']
    print(f"\nregex encode {enc:,.0f} SMILES/s (target ≥ 1,000,000): {'met' if enc >= 1e6 else 'NOT met'}; "
          f"{ratio:.1f}x the loop in this run (target ≥ 18x): {'met' if ratio >= 18 else 'NOT met'}")
    print(f"round-trip failures: char {summary['char'][1]}, regex {fails} (target 0); fast ids identical to loop: {summary['char'][2] and same}")
    print(f"bucketing cuts padding {pf_random/pf_bucket:.1f}x (target ≥ 3x): {'met' if pf_random/pf_bucket >= 3 else 'NOT met'}")
