#!/usr/bin/env python
"""Training (and evaluation) speed of the DCN on this machine's CPU: the training step of mrl 0.1 (copied below as
the baseline) against the current one, side by side in one run, on the same bucketed SQuAD batches, for the paper's
configuration (hidden 200, maxout pool 16) and the small one (hidden 100, pool 4).

One training step = forward, loss (sum of the iterations' cross-entropies), backward, Adam step. Both implementations
run on the SAME model object (the baseline is a set of functions over its modules), from the same weights, and are
timed alternately batch by batch, so that a busy machine slows both alike. Reports median seconds per step, training
examples/s and the ratio; then evaluation (forward with early stopping, no gradients) in questions/s.

Before timing, it checks that both compute the same thing: the same loss and gradients in float64 (where no near-tie
between maxout pieces can be decided differently by rounding), and the float32 loss and gradients side by side.

FLOPs per training example are counted with torch.utils.flop_counter.FlopCounterMode on the baseline's computation
(with the LSTMs on PyTorch's native kernels, whose matrix products the counter sees: the dense work the step needs),
and on the current one (which skips most of the large maxout pools' zero gradients); GFLOP/s and the share of this
machine's float32 matmul rate (a 2048^3 sgemm at the same thread count) use the dense count for both.

Usage: python bench/train_speed.py [--threads N] [--steps N] [--configs paper small] [--bs 64] [--eval-batches N]
"""
import argparse, copy, gzip, json, statistics, time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.utils.flop_counter import FlopCounterMode

from mrl.coattention import mask_from_lengths, check_lengths, coattention
from mrl.decoder import DCN, DCNConfig, DCNOutput, dcn_loss, best_span, NEG_INF
from mrl.squad import read_squad, QADataset, WordVocab, load_glove, embedding_matrix, split_by_article

DATA = Path(__file__).resolve().parents[2]/'shared'/'data'/'squad'/'squad-v1.1-dev-40art.json.gz'
CONFIGS = {'paper': dict(hidden=200, pool=16), 'small': dict(hidden=100, pool=4)}

# ---------------------------------------------------------------- the baseline: mrl 0.1's training step, verbatim
def _shift_index(lengths, T, to_right:bool):
    shift = (T - lengths)[:, None]
    t = torch.arange(T, device=lengths.device)[None]
    return (t - shift).clamp(min=0) if to_right else (t + shift).clamp(max=T-1)

def base_masked_lstm(lstm, x, lengths_cpu, packed=None):
    B, T, _ = x.shape
    if packed is None: packed = x.device.type == 'cuda'
    if packed:
        p = pack_padded_sequence(x, lengths_cpu, batch_first=True, enforce_sorted=False)
        return pad_packed_sequence(lstm(p)[0], batch_first=True, total_length=T)[0]
    lengths = lengths_cpu.to(x.device)
    mask = mask_from_lengths(lengths, T)[:, :, None]
    if not lstm.bidirectional: return lstm(x)[0] * mask
    idx = _shift_index(lengths, T, to_right=True)[:, :, None]
    x_right = x.gather(1, idx.expand(-1, -1, x.size(2)))
    y = lstm(torch.cat([x, x_right]))[0]
    H = lstm.hidden_size
    fwd, bwd_right = y[:B, :, :H], y[B:, :, H:]
    idx = _shift_index(lengths, T, to_right=False)[:, :, None]
    bwd = bwd_right.gather(1, idx.expand(-1, -1, H))
    return torch.cat([fwd, bwd], -1) * mask

def base_encode(self, doc_emb, doc_lens_cpu, q_emb, q_lens_cpu):
    B, m, n = doc_emb.size(0), doc_emb.size(1), q_emb.size(1)
    T = max(m, n)
    x = torch.cat([F.pad(doc_emb, (0, 0, 0, T-m)), F.pad(q_emb, (0, 0, 0, T-n))])
    h = base_masked_lstm(self.encoder, self.dropout(x), torch.cat([doc_lens_cpu, q_lens_cpu]), self.packed)
    D, Qp = h[:B, :m], h[B:, :n]
    D = torch.cat([self.doc_sentinel.to(D.dtype).expand(B, 1, -1), D], 1)
    Qp = torch.cat([self.q_sentinel.to(Qp.dtype).expand(B, 1, -1), Qp], 1)
    return D, torch.tanh(self.q_proj(Qp))

def base_encoder(self, doc_emb, doc_lens, q_emb, q_lens):
    B = doc_emb.size(0)
    d_cpu = check_lengths(doc_lens, doc_emb.size(1), B, 'doc_lens')
    q_cpu = check_lengths(q_lens, q_emb.size(1), q_emb.size(0), 'q_lens')
    D, Q = base_encode(self, doc_emb, d_cpu, q_emb, q_cpu)
    dev = D.device
    d_mask = mask_from_lengths(d_cpu.to(dev) + 1, D.size(1))
    q_mask = mask_from_lengths(q_cpu.to(dev) + 1, Q.size(1))
    co = coattention(D, Q, d_mask, q_mask)
    fused = torch.cat([D[:, 1:], co.C_D[:, 1:]], -1)
    return self.dropout(base_masked_lstm(self.fusion, self.dropout(fused), d_cpu, self.packed))

def base_token_term(self, U):
    B, L, _ = U.shape
    return (U.reshape(1, B*L, -1) @ self.W_1[:, :2*self.hidden]).view(self.n, B, L, -1)

def base_hmn(self, U, h, u_s, u_e, token_term):
    n, l, p = self.n, self.hidden, self.pool
    B, L, _ = U.shape
    r = torch.tanh(torch.cat([h.to(U.dtype), u_s, u_e], -1)[None] @ self.W_D)
    per_example = r @ self.W_1[:, 2*l:] + self.b_1[:, None]
    m1 = (token_term + per_example[:, :, None]).view(n, B, L, l, p).max(-1).values.view(n, B*L, l)
    m2 = torch.baddbmm(self.b_2[:, None], m1, self.W_2).view(n, B*L, l, p).max(-1).values
    m3 = torch.baddbmm(self.b_3[:, None], torch.cat([m1, m2], -1), self.W_3).max(-1).values
    return m3.view(n, B, L)

def base_decoder(self, U, lengths, early_stop=None):
    if early_stop is None: early_stop = not self.training
    B, L, _ = U.shape
    mask = mask_from_lengths(lengths, L)
    rows = torch.arange(B, device=U.device)
    s, e = torch.zeros_like(lengths), lengths - 1
    h = c = torch.zeros(B, self.hidden, device=U.device, dtype=torch.promote_types(U.dtype, torch.float32))
    token_term = base_token_term(self.hmn, U)
    done = torch.zeros(B, dtype=torch.bool, device=U.device)
    starts, ends = [], []
    for i in range(self.iterations):
        u_s, u_e = U[rows, s], U[rows, e]
        h, c = self.cell(torch.cat([u_s, u_e], -1), (h, c))
        alpha, beta = base_hmn(self.hmn, U, h, u_s, u_e, token_term).float().masked_fill(~mask, NEG_INF)
        s_new, e_new = alpha.argmax(-1), beta.argmax(-1)
        if early_stop and i > 0:
            same = (s_new == s) & (e_new == e)
            alpha = torch.where(done[:, None], starts[-1], alpha)
            beta = torch.where(done[:, None], ends[-1], beta)
            s_new, e_new = torch.where(done, s, s_new), torch.where(done, e, e_new)
            done = done | same
        starts.append(alpha); ends.append(beta)
        s, e = s_new, e_new
        if early_stop and i > 0 and bool(done.all()): break
    return torch.stack(starts), torch.stack(ends)

def base_dcn(self, context_ids, context_lens, question_ids, question_lens, early_stop=None):
    B, Lc = context_ids.shape
    c_cpu = check_lengths(context_lens, Lc, B, 'context_lens')
    q_cpu = check_lengths(question_lens, question_ids.size(1), B, 'question_lens')
    U = base_encoder(self.encoder, self.embed(context_ids), c_cpu, self.embed(question_ids), q_cpu)
    lens = c_cpu.to(U.device)
    start_logits, end_logits = base_decoder(self.decoder, U, lens, early_stop)
    start, end = best_span(start_logits[-1], end_logits[-1], mask_from_lengths(lens, Lc), self.config.max_answer_len)
    return DCNOutput(start_logits, end_logits, start, end)

# ---------------------------------------------------------------- the two steps
def new_dcn(model, *args, **kw): return model(*args, **kw)
IMPLS = {'baseline (mrl 0.1)': base_dcn, 'current': new_dcn}

def train_step(forward, model, opt, b):
    out = forward(model, b.context_ids, b.context_lens, b.question_ids, b.question_lens)
    loss = dcn_loss(out, b.start, b.end)
    opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
    return loss

def loss_and_grads(forward, model, b):
    model.zero_grad(set_to_none=True)
    loss = dcn_loss(forward(model, b.context_ids, b.context_lens, b.question_ids, b.question_lens), b.start, b.end)
    loss.backward()
    return loss.item(), {k: p.grad.detach().clone() for k, p in model.named_parameters() if p.grad is not None}

def compare(model, b, dtype):
    "Max relative difference (to each gradient's largest entry) between the two implementations, and both losses."
    m = copy.deepcopy(model).to(dtype).train()
    m.encoder.dropout.p = 0.                                       # dropout off: the same function, deterministically
    b = copy.copy(b)
    (lb, gb), (ln, gn) = (loss_and_grads(f, m, b) for f in IMPLS.values())
    rel = max(((gb[k] - gn[k]).abs().max() / gb[k].abs().max().clamp(min=1e-30)).item() for k in gb)
    return lb, ln, rel

def matmul_rate(n=2048, reps=7):
    a, b = torch.randn(n, n), torch.randn(n, n); a @ b
    ts = []
    for _ in range(reps):
        t = time.perf_counter(); a @ b; ts.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(ts)

def count_flops(model, b, forward):
    "FLOPs of one training step of `forward` (LSTMs on PyTorch's native kernels, whose matrix products the counter sees)."
    m = copy.deepcopy(model).train(); opt = torch.optim.Adam([p for p in m.parameters() if p.requires_grad])
    was = torch._C._get_mkldnn_enabled(); torch._C._set_mkldnn_enabled(False)
    try:
        with FlopCounterMode(display=False) as fc: train_step(forward, m, opt, b)
    finally: torch._C._set_mkldnn_enabled(was)
    return fc.get_total_flops()

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--data', default=str(DATA), help='SQuAD v1.1 file (default: the 40 dev articles)')
    p.add_argument('--threads', type=int, default=None, help="torch CPU threads (default: torch's choice)")
    p.add_argument('--configs', nargs='+', default=['small', 'paper'], choices=list(CONFIGS))
    p.add_argument('--bs', type=int, default=64, help='batch size')
    p.add_argument('--steps', type=int, default=8, help='timed training steps per implementation and configuration')
    p.add_argument('--eval-batches', type=int, default=4, help='timed evaluation batches per implementation')
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    if a.threads: torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    data = read_squad(a.data)
    train, valid = split_by_article(data.examples, 0.2, seed=a.seed)
    glove = load_glove()
    vocab = WordVocab.from_examples(train + valid)
    emb = embedding_matrix(vocab, glove)
    tr_ds, va_ds = QADataset(train, vocab), QADataset(valid, vocab, max_context_len=10_000, beyond='keep')
    batches = list(tr_ds.dataloader(bs=a.bs, shuffle=True, seed=a.seed))[:a.steps + 1]
    eval_batches = list(va_ds.dataloader(bs=a.bs, shuffle=False, seed=a.seed))[:a.eval_batches]
    rate = matmul_rate()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} CPU thread(s); float32 matmul rate {rate/1e9:.1f} GFLOP/s (2048^3 sgemm)")
    print(f"data: {len(tr_ds):,} training questions; {a.steps} timed steps of {a.bs} (bucketed, mean context "
          f"{np.mean([b.context_ids.shape[1] for b in batches[1:]]):.0f} tokens) after 1 warm-up step; evaluation: {len(eval_batches)} batches")
    summary = []
    for name in a.configs:
        cfg = DCNConfig.paper(len(vocab), pad_idx=vocab.pad_idx, **CONFIGS[name])   # the paper's DCN (words only) at each size, as the baseline computes it
        torch.manual_seed(a.seed)
        model = DCN(cfg, emb)
        print(f"\n== {name}: hidden {cfg.hidden}, pool {cfg.pool}, {cfg.iterations} iterations, dropout {cfg.dropout}")
        for dtype in (torch.float64, torch.float32):
            lb, ln, rel = compare(model, batches[0], dtype)
            print(f"same computation, {str(dtype)[6:]}: loss {lb:.6f} vs {ln:.6f}; gradients differ by at most {rel:.1e} (relative to each tensor's largest entry)")
        flops = count_flops(model, batches[1], base_dcn) / len(batches[1])          # the dense computation's FLOPs
        flops_new = count_flops(model, batches[1], new_dcn) / len(batches[1])      # what the current one executes
        models = {k: copy.deepcopy(model).train() for k in IMPLS}
        opts = {k: torch.optim.Adam([p for p in m.parameters() if p.requires_grad], lr=1e-3) for k, m in models.items()}
        times = {k: [] for k in IMPLS}
        for i, b in enumerate(batches):
            order = list(IMPLS) if i % 2 == 0 else list(IMPLS)[::-1]       # alternate who goes first
            for k in order:
                t = time.perf_counter(); train_step(IMPLS[k], models[k], opts[k], b); dt = time.perf_counter() - t
                if i > 0: times[k].append(dt)
        ev = {k: [] for k in IMPLS}
        with torch.no_grad():
            for k, m in models.items(): m.eval()
            for i, b in enumerate([eval_batches[0]] + eval_batches):
                for k in (list(IMPLS) if i % 2 == 0 else list(IMPLS)[::-1]):
                    t = time.perf_counter(); IMPLS[k](models[k], b.context_ids, b.context_lens, b.question_ids, b.question_lens)
                    if i > 0: ev[k].append((time.perf_counter() - t, len(b)))
        base_k, new_k = list(IMPLS)
        med = {k: statistics.median(v) for k, v in times.items()}
        qps = {k: sum(n for _, n in v) / sum(t for t, _ in v) for k, v in ev.items()}
        print(f"FLOPs per training example (FlopCounterMode): {flops/1e9:.2f} GFLOP as the baseline computes it (dense); "
              f"{flops_new/1e9:.2f} GFLOP executed by the current implementation (sparse gradients of large maxout pools)")
        print(f"{'implementation':<22}{'s/step':>9}{'train ex/s':>12}{'GFLOP/s':>10}{'of matmul':>11}{'eval q/s':>10}")
        for k in IMPLS:
            gf = flops * a.bs / med[k]
            print(f"{k:<22}{med[k]:>9.3f}{a.bs/med[k]:>12.1f}{gf/1e9:>10.1f}{gf/rate:>10.0%}{qps[k]:>10.1f}")
        print(f"speed-up: training {med[base_k]/med[new_k]:.2f}x, evaluation {qps[new_k]/qps[base_k]:.2f}x "
              f"(GFLOP/s: the dense computation's FLOPs per second of step, for both)")
        summary.append((name, a.bs/med[base_k], a.bs/med[new_k], med[base_k]/med[new_k], flops * a.bs / med[new_k] / rate, qps[base_k], qps[new_k]))
    print(f"\n{'config':<8}{'baseline ex/s':>14}{'current ex/s':>14}{'ratio':>8}{'matmul share':>14}{'eval q/s base':>15}{'eval q/s now':>14}")
    for r in summary: print(f"{r[0]:<8}{r[1]:>14.1f}{r[2]:>14.1f}{r[3]:>7.2f}x{r[4]:>13.0%}{r[5]:>15.1f}{r[6]:>14.1f}")
    print("targets (issue): small configuration >= 2x; paper configuration >= 60% of the matmul rate; same numerics")

if __name__ == '__main__': main()
