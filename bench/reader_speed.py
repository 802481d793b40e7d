#!/usr/bin/env python
"""Prediction speed of the bundled reader: `Reader.answer_many` (length-sorted batches) against the straightforward
loop of `Reader.answer` one question at a time, on the same questions, in one run; plus load time and file size.

    python bench/reader_speed.py                  # 400 questions of the 40 SQuAD articles, 2 threads, median of 3
    python bench/reader_speed.py --threads 1 --n 1000

The questions come from ../shared/data (any SQuAD file works with --data); the reader's answers are the same either
way (checked), only the speed differs.
"""
import argparse, statistics, time
from pathlib import Path

import torch

from mrl.squad import read_squad
from mrl.training import load_reader, bundled_reader_path

DATA = Path(__file__).resolve().parents[2]/'shared'/'data'/'squad'/'squad-v1.1-dev-40art.json.gz'

def timed(f, repeats:int) -> tuple:
    "Median seconds of `repeats` calls of `f`, and its last result."
    times, res = [], None
    for _ in range(repeats):
        t = time.perf_counter(); res = f(); times.append(time.perf_counter() - t)
    return statistics.median(times), res

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=str(DATA))
    p.add_argument('--n', type=int, default=400, help='questions timed (every k-th of the file, so all articles count)')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--bs', type=int, default=64)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    t = time.perf_counter(); reader = load_reader(device='cpu'); t_load = time.perf_counter() - t
    ex = read_squad(a.data).examples
    ex = ex[::max(1, len(ex) // a.n)][:a.n]
    pairs = [(e.question, e.context) for e in ex]
    reader.answer_many(pairs[:8], progress=False)                                  # warm-up (and the GloVe of new words)
    reader.answer_many(pairs, progress=False)
    size = bundled_reader_path().stat().st_size
    print(f"bundled reader: {size/2**20:.1f} MB, loaded in {t_load:.2f} s; torch {torch.__version__}, {torch.get_num_threads()} thread(s); "
          f"{len(pairs)} questions, mean context {sum(len(e.context.split()) for e in ex)/len(ex):.0f} words; median of {a.repeats}")
    t_loop, loop = timed(lambda: [reader.answer(q, c) for q, c in pairs], a.repeats)
    t_many, many = timed(lambda: reader.answer_many(pairs, bs=a.bs, progress=False), a.repeats)
    same = sum(x.text == y.text for x, y in zip(loop, many))
    print(f"{'variant':<38}{'seconds':>9}{'questions/s':>13}")
    print(f"{'answer() one question at a time':<38}{t_loop:>9.2f}{len(pairs)/t_loop:>13.1f}")
    print(f"{f'answer_many(), batches of {a.bs}':<38}{t_many:>9.2f}{len(pairs)/t_many:>13.1f}")
    print(f"answer_many / loop: {t_loop/t_many:.2f}x; same answers: {same}/{len(pairs)}")

if __name__ == '__main__': main()
