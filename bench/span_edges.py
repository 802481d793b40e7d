#!/usr/bin/env python
"""Span edges (issue 19, item 5): does a longer answer-length cap or a span-length prior help a reader, on validation articles?

A third of the reader's misses were boundary errors (too long or too short). Two decoding changes can be measured
without retraining, from the last decoder iteration's logits of each question with its own paragraph:

- the cap on the answer's length in tokens (`DCNConfig.max_answer_len`, 15 by default): 10, 15, 20, 30;
- a prior on the length: the span score `start + end` plus `weight × log P(length)`, with P the distribution of the
  answers' token lengths in the training file (add-one smoothed), weights 0, 0.5, 1.

Trimming cue words (a leading "the", trailing punctuation) cannot change the official metric, which drops articles
and punctuation before comparing, so it is not measured. The figures are for the VALIDATION articles (the choice is
made there; the test articles are not used).

    python bench/span_edges.py runs/reader-heldout/best.safetensors --valid runs/reader-split/valid-4.json --train runs/reader-split/train-28.json
"""
import argparse, json, sys
from collections import Counter
from pathlib import Path
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('checkpoint'); p.add_argument('--valid', required=True); p.add_argument('--train', required=True)
    p.add_argument('--threads', type=int, default=1)
    a = p.parse_args()
    import torch
    torch.set_num_threads(a.threads)
    from mrl.squad import read_squad, QAExample, tokenize_examples, char_to_token_span
    from mrl.reader import load_reader, _logit_rows
    from mrl.evaluation import squad_metrics
    reader = load_reader(a.checkpoint, 'cpu')
    valid = read_squad(a.valid).examples
    train = tokenize_examples(read_squad(a.train).examples)
    lens = Counter()
    for e in train:
        t, s = e.answers[0]; sp = char_to_token_span(e.context_offsets, s, s + len(t))
        if sp: lens[sp[1] - sp[0] + 1] += 1
    K = 40
    prior = np.log(np.array([lens[k] + 1 for k in range(1, K + 1)], np.float64) / (sum(lens.values()) + K))
    print(f"training answers: {sum(lens.values()):,}; tokens: median {np.median(list(lens.elements())):.0f}, "
          f"{100 * sum(v for k, v in lens.items() if k > 15) / sum(lens.values()):.1f}% longer than 15, {100 * sum(v for k, v in lens.items() if k > 30) / sum(lens.values()):.1f}% longer than 30")
    qs = [QAExample(e.qid, e.title, e.article_idx, e.paragraph_idx, e.context, e.question, []) for e in valid]
    reader.calibration = None
    rows = reader._read(qs, 64, False, 'logits', decode=lambda out, b: [(r, b.offsets[i]) for i, r in enumerate(_logit_rows(out, b))])
    k0 = int(reader.model.config.no_answer)
    refs = {e.qid: e.answer_texts for e in valid}
    res = {}
    for cap in (10, 15, 20, 30):
        for w in (0., 0.5, 1.):
            preds = {}
            for e in valid:
                (ls, le, *_), offs = rows[e.qid]
                ls, le = ls[k0:], le[k0:]
                L = len(ls); best, bs = -np.inf, (0, 0)
                for length in range(1, min(cap, L) + 1):
                    sc = ls[:L - length + 1] + le[length - 1:] + w * prior[length - 1]
                    i = int(sc.argmax())
                    if sc[i] > best: best, bs = sc[i], (i, i + length - 1)
                preds[e.qid] = e.context[int(offs[bs[0], 0]):int(offs[bs[1], 1])]
            m = squad_metrics(preds, refs, warn=False)
            res[f'cap {cap}, prior weight {w}'] = m
            print(f"max_answer_len {cap:>2}, length prior weight {w:.1f}: EM {m['exact_match']:.2f}  F1 {m['f1']:.2f}", flush=True)
    best = max(res, key=lambda k: res[k]['f1'])
    print(f"best on the validation articles: {best} (F1 {res[best]['f1']:.2f}; today's decoding, cap 15 without prior: {res['cap 15, prior weight 0.0']['f1']:.2f})")

if __name__ == '__main__': main()
