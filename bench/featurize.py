#!/usr/bin/env python
"""ECFP6 (2048 bits) for the MOSES test set through `mrl.chem.featurize` with 1 and 2 workers, side by side with a
plain loop over RDKit's Morgan generator. Prints molecules/s (median of --repeats runs) and the ratios.

Targets (issue 2): mrl with 1 worker within 1.2x of the plain loop; 2 workers >= 1.7x of 1 worker.
Usage: python bench/featurize.py [--data DIR] [--n N] [--repeats R]
"""
import argparse, statistics, time
from pathlib import Path
import numpy as np, pandas as pd
from rdkit import Chem, RDLogger
from rdkit.Chem import rdFingerprintGenerator
from mrl.chem import featurize

def plain_loop(smiles):
    "The straightforward way: parse, fingerprint, collect; skip what does not parse."
    RDLogger.DisableLog('rdApp.*')
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=3, fpSize=2048)
    rows = []
    for s in smiles:
        mol = Chem.MolFromSmiles(s)
        if mol is not None: rows.append(gen.GetFingerprintAsNumPy(mol))
    return np.array(rows, dtype=np.uint8)

def timed(f, repeats):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter(); out = f(); times.append(time.perf_counter() - t)
    return statistics.median(times), out

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=Path(__file__).resolve().parents[2]/'shared'/'data', type=Path, help='folder holding moses/test.csv.gz')
    p.add_argument('--n', type=int, default=None, help='use only the first N SMILES')
    p.add_argument('--repeats', type=int, default=3, help='runs per variant (the median is reported)')
    a = p.parse_args()
    smiles = pd.read_csv(a.data/'moses'/'test.csv.gz').SMILES.tolist()[:a.n]
    print(f"{len(smiles):,} SMILES from {a.data/'moses'/'test.csv.gz'}; ECFP6, 2048 bits; median of {a.repeats} runs")
    t_plain, X_plain = timed(lambda: plain_loop(smiles), a.repeats)
    t_1, r1 = timed(lambda: featurize(smiles, 'ECFP6', n_workers=1, progress=False), a.repeats)
    t_2, r2 = timed(lambda: featurize(smiles, 'ECFP6', n_workers=2, progress=False), a.repeats)
    assert np.array_equal(X_plain, r1.X) and np.array_equal(r1.X, r2.X), "mrl and the plain loop disagree"
    n = len(smiles)
    print(f"{'variant':<28}{'seconds':>10}{'molecules/s':>14}")
    for name, t in [('plain RDKit loop', t_plain), ('mrl featurize, 1 worker', t_1), ('mrl featurize, 2 workers', t_2)]:
        print(f"{name:<28}{t:>10.2f}{n/t:>14,.0f}")
    print(f"failed SMILES: {len(r1.failed_idxs)} {r1.failed_smiles[:5]}")
    print(f"mrl 1 worker / plain loop time: {t_1/t_plain:.2f}x (target <= 1.2x)")
    print(f"2 workers speed-up over 1:      {t_1/t_2:.2f}x (target >= 1.7x)")
