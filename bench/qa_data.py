#!/usr/bin/env python
"""The SQuAD data layer (`mrl.dataloaders`) on the 40-article SQuAD v1.1 dev sample (8,105 questions), side by side with
straightforward baselines. Prints medians of --repeats runs and ratios:

- reading + tokenizing + span mapping + numericalizing every question (vocabulary built from the data), against a
  plain loop (json.load, NLTK `span_tokenize` once per context and once per question, linear span search);
- the exact-match features (exact, lower-cased, Porter stem) of the 8,105 questions: dataset time with and without
  them, with a cold stem cache (first dataset of a process) and a warm one;
- span recovery: answers whose token span reproduces the answer after SQuAD normalization (mrl vs the plain loop),
  all answers and first answers, and the misses by category (annotation artefacts counted apart);
- unknown words of held-out articles (8 of the 40, vocabulary from the other 32): `unk` rate before and after
  adding the new words that GloVe has (`new_words` + `WordVocab.extend`);
- GloVe 6B 50d load time from the package and from a text file written from the package's vectors (written once,
  to --tmp), against a per-line Python parse;
- padding fraction of random vs length-bucketed batches.

Targets: <= 3 s for the 8,105 questions (GloVe load excluded); span recovery >= 99.6% of all answers; the 400,000-word
GloVe text file loaded in <= 10 s.
Usage: python bench/qa_data.py [--data DIR] [--repeats R] [--tmp DIR] [--bs BS] [--quick]
"""
import argparse, gzip, json, statistics, time
from pathlib import Path
import numpy as np
from nltk.tokenize import NLTKWordTokenizer
from mrl.dataloaders import BucketBatchSampler, padding_fraction
import mrl.squad
from mrl.squad import (read_squad, tokenize_examples, WordVocab, QADataset, span_recovery, load_glove, glove_coverage,
                       normalize_answer, split_by_article, unk_rate, new_words, ExactMatch)

CPU = {} # id of the last timed function -> median CPU seconds of this process (less sensitive to a busy machine)

def timed(f, repeats):
    times, cpus, out = [], [], None
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time(); out = f()
        times.append(time.perf_counter() - t); cpus.append(time.process_time() - c)
    CPU['last'] = statistics.median(cpus)
    return statistics.median(times), out

def mrl_pipeline(path, n_workers=1, features=False):
    "read + validate, tokenize with offsets, build the vocabulary, numericalize and map spans; with stage times."
    t = [time.perf_counter()]
    data = read_squad(path); t.append(time.perf_counter())
    tokenize_examples(data.examples, n_workers=n_workers); t.append(time.perf_counter())
    vocab = WordVocab.from_examples(data.examples); t.append(time.perf_counter())
    ds = QADataset(data.examples, vocab, features=features); t.append(time.perf_counter())
    return data, vocab, ds, np.diff(t)

def dataset_time(examples, vocab, features, cold):
    "Seconds to build the dataset of tokenized `examples`; `cold`: with an empty stem cache (as the first dataset of a process)."
    if cold: mrl.squad._EXACT_MATCH = ExactMatch()
    t = time.perf_counter(); QADataset(examples, vocab, features=features)
    return time.perf_counter() - t

def plain_pipeline(path):
    "The straightforward way: one NLTK call per context and per question, linear span search, dict lookups."
    tok = NLTKWordTokenizer()
    d = json.load(gzip.open(path, 'rt', encoding='utf-8'))
    rows, stoi, n_ok, n_ans = [], {}, 0, 0
    def ids(words): return [stoi.setdefault(w.lower(), len(stoi)) for w in words]
    for art in d['data']:
        for p in art['paragraphs']:
            ctx = p['context']
            offs = list(tok.span_tokenize(ctx))
            cids = ids(ctx[s:e] for s, e in offs)
            for q in p['qas']:
                qids = ids(q['question'][s:e] for s, e in tok.span_tokenize(q['question']))
                spans = []
                for a in q['answers']:
                    s0, e0 = a['answer_start'], a['answer_start'] + len(a['text'])
                    ts = next((i for i, (s, e) in enumerate(offs) if e > s0), None)
                    te = next((i for i in range(len(offs)-1, -1, -1) if offs[i][0] < e0), None)
                    spans.append((ts, te)); n_ans += 1
                    if ts is not None and te is not None and te >= ts:
                        n_ok += normalize_answer(ctx[offs[ts][0]:offs[te][1]]) == normalize_answer(a['text'])
                rows.append((cids, qids, spans[0]))
    return rows, n_ok / n_ans

def write_glove_text(glove, path):
    "A glove.*.txt file of the packaged vectors (5 decimals, as the official files)."
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, 'w', encoding='utf-8') as f:
        for i in range(0, len(glove), 20_000):
            rows = [' '.join(r) for r in glove.vectors[i:i+20_000].round(5).astype(str).tolist()]
            f.write(''.join(f"{w} {r}\n" for w, r in zip(glove.words[i:i+20_000], rows)))

def plain_glove(path):
    "Per-line Python parsing into a word -> vector dict."
    out = {}
    with open(path, encoding='utf-8') as f:
        for line in f:
            parts = line.rstrip().split(' ')
            out[parts[0]] = np.array([float(x) for x in parts[1:]], dtype=np.float32)
    return out

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    shared = next((d/'shared'/'data' for d in Path(__file__).resolve().parents if (d/'shared'/'data'/'squad').is_dir()), Path('shared/data'))
    p.add_argument('--data', default=shared, type=Path, help='folder holding squad/squad-v1.1-dev-40art.json.gz (default: the nearest shared/data above this file)')
    p.add_argument('--repeats', type=int, default=3, help='runs per variant (the median is reported)')
    p.add_argument('--tmp', default=Path('/tmp/mrl-bench'), type=Path, help='where the GloVe text file is written (once)')
    p.add_argument('--bs', type=int, default=32, help='batch size for the padding fractions')
    p.add_argument('--quick', action='store_true', help='skip the GloVe text-file timings (writing and parsing 168 MB)')
    a = p.parse_args()
    path = a.data/'squad'/'squad-v1.1-dev-40art.json.gz'

    print(f"== SQuAD pipeline: {path} (median of {a.repeats} runs)")
    t_mrl, (data, vocab, ds, stages) = timed(lambda: mrl_pipeline(path), a.repeats); c_mrl = CPU['last']
    t_mrl2, _ = timed(lambda: mrl_pipeline(path, n_workers=2), a.repeats)
    t_plain, (rows, rec_plain) = timed(lambda: plain_pipeline(path), a.repeats); c_plain = CPU['last']
    n = len(data.examples)
    print(f"{'variant':<52}{'seconds':>9}{'questions/s':>13}{'CPU s':>8}")
    print(f"{'mrl (read, tokenize, vocab, dataset, no features)':<52}{t_mrl:>9.2f}{n/t_mrl:>13,.0f}{c_mrl:>8.2f}")
    print(f"{'mrl, tokenizing in 2 processes':<52}{t_mrl2:>9.2f}{n/t_mrl2:>13,.0f}{'':>8}")
    print(f"{'plain loop (1 NLTK call per text)':<52}{t_plain:>9.2f}{len(rows)/t_plain:>13,.0f}{c_plain:>8.2f}")
    print("mrl stages of the last run: " + ', '.join(f"{k} {v:.2f} s" for k, v in zip(['read+validate', 'tokenize', 'vocab', 'numericalize+spans'], stages)))
    print(f"questions: {n:,} read, {len(data.lost_qids)} lost, {data.n_realigned} realigned; dataset {len(ds):,} "
          f"(max_context_len=600: {len(ds.dropped)} dropped {ds.dropped[:3]}); vocabulary {len(vocab):,} words")
    print(f"mrl / plain time: {t_mrl/t_plain:.2f}x (2 processes: {t_mrl2/t_plain:.2f}x); target <= 3 s (1 process): {'met' if t_mrl <= 3 else 'NOT met'} ({t_mrl:.2f} s)")

    print(f"\n== Exact-match features of the {n:,} questions (median of {a.repeats} runs; dataset build from tokenized examples)")
    t_plain_ds = statistics.median(dataset_time(data.examples, vocab, False, False) for _ in range(a.repeats))
    t_cold = statistics.median(dataset_time(data.examples, vocab, True, True) for _ in range(a.repeats))
    t_warm = statistics.median(dataset_time(data.examples, vocab, True, False) for _ in range(a.repeats))
    print(f"dataset without features {t_plain_ds:.2f} s; with features: cold stem cache {t_cold:.2f} s (+{t_cold-t_plain_ds:.2f} s), "
          f"warm {t_warm:.2f} s (+{t_warm-t_plain_ds:.2f} s); {len(mrl.squad._EXACT_MATCH.stems):,} words stemmed")
    print(f"dataset report: {QADataset(data.examples, vocab).report()}")

    print("\n== Span recovery (answers whose token span gives the answer back after SQuAD normalization)")
    rec_all, rec_first = span_recovery(data.examples), span_recovery(data.examples, all_answers=False)
    print(f"mrl, all reference answers:   {rec_all}")
    print(f"mrl, first answers (targets): {rec_first}")
    print(f"plain NLTK spans, all answers: {rec_plain:.2%}")
    print(f"misses by category (all answers; {rec_all.n_artefacts} of {len(rec_all.failures)} are annotation artefacts):")
    print(rec_all.table(3))
    print(f"target >= 99.6% of all answers: {'met' if rec_all.rate >= 0.996 else 'NOT met'}")

    print(f"\n== GloVe 6B 50d (median of {a.repeats} runs)")
    t_pkg, glove = timed(lambda: load_glove(), a.repeats)
    txt = a.tmp/'glove.6B.50d.txt'
    if a.quick: print(f"package (.npy + Parquet words): {t_pkg:.2f} s (text-file timings skipped: --quick)")
    elif not txt.exists():
        t = time.perf_counter(); write_glove_text(glove, txt); print(f"wrote {txt} ({txt.stat().st_size/1e6:.0f} MB) in {time.perf_counter()-t:.1f} s")
    if not a.quick:
        t_txt, gt = timed(lambda: load_glove(txt), a.repeats)
        assert gt.words == glove.words and np.abs(gt.vectors - glove.vectors).max() < 1e-5, "text file and package disagree"
        t_pl, gd = timed(lambda: plain_glove(txt), 1)
        assert len(gd) == len(glove)
        print(f"{'variant':<44}{'seconds':>9}{'words/s':>13}")
        for name, t in [('package (.npy + Parquet words)', t_pkg), ('text file, mrl load_glove (bulk NumPy)', t_txt), ('text file, per-line Python (1 run)', t_pl)]:
            print(f"{name:<44}{t:>9.2f}{len(glove)/t:>13,.0f}")
        print(f"text file: plain / mrl time {t_pl/t_txt:.2f}x; target <= 10 s: {'met' if t_txt <= 10 else 'NOT met'} ({t_txt:.2f} s)")
    print(f"coverage of the data vocabulary: {glove_coverage(vocab, glove)}")

    print("\n== Unknown words of held-out articles (vocabulary from the other articles; split_by_article(valid_pct=0.2, seed=0))")
    train, valid = split_by_article(data.examples, valid_pct=0.2, seed=0)
    v_train = WordVocab.from_examples(train); n_old = len(v_train)
    before = unk_rate(valid, v_train)
    t = time.perf_counter(); new = new_words(valid, v_train, glove); v_train.extend(new.found); t_new = time.perf_counter() - t
    after = unk_rate(valid, v_train)
    print(f"{len({e.title for e in train})} training articles (vocabulary of {n_old:,} words), {len({e.title for e in valid})} held out ({len(valid):,} questions)")
    print(f"unk before: {before}")
    print(f"new words:  {new} ({t_new:.2f} s)")
    print(f"unk after adding the {len(new.found):,} new words GloVe has: {after}")

    print(f"\n== Padding (bs={a.bs}, context tokens)")
    rng = np.random.default_rng(0)
    pf_r = statistics.median(padding_fraction(ds.lengths(), [p[i:i+a.bs] for i in range(0, len(p), a.bs)])
                             for p in (rng.permutation(len(ds)) for _ in range(5)))
    pf_b = statistics.median(padding_fraction(ds.lengths(), BucketBatchSampler(ds.lengths(), a.bs, seed=s)) for s in range(5))
    print(f"random batches {pf_r:.1%}, bucketed {pf_b:.1%} (bucket_mult=50); ratio {pf_r/max(pf_b, 1e-9):.1f}x less padding")
