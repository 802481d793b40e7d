#!/usr/bin/env python
"""Training speed of `mrl.decoder.DCN` at the paper's sizes (hidden 200, maxout pool 16, 4 decoder iterations,
50-d frozen embeddings) on synthetic SQuAD-shaped batches (contexts 60-260 tokens, questions 6-20), side by side,
in the same run, with a straightforward implementation of the same model (LSTM cells stepped in Python,
coattention one example at a time, HMNs recomputing everything each iteration).

One training step = forward, loss (sum of CEs over iterations), backward, Adam step. Reports the median step time
over --steps batches (after --warmup untimed ones) as training examples/s, and the ratios.

Variants: baseline (random batches) | dcn (the same random batches) | dcn+bucket (length-bucketed batches: each
batch holds contexts of similar length, so less padding) | dcn+bucket+compile (--compile: the HMN under
torch.compile). Before timing, the baseline is loaded with the DCN's weights and both must give the same logits.

Targets (issue): >= 5,000 training examples/s on one H100; >= 10x the straightforward implementation.
Usage: python bench/dcn_speed.py [--device cpu|cuda] [--amp none|bf16] [--batch-sizes 64 100] [--steps N]
                                 [--warmup N] [--baseline-steps N] [--compile] [--threads N] [--seed S]
"""
import argparse, random, statistics, time
import torch
import torch.nn.functional as F
from torch import nn
from mrl.coattention import mask_from_lengths
from mrl.decoder import DCN, DCNConfig, DCNOutput, dcn_loss, NEG_INF

PAD = 2

# ---------------------------------------------------------------- synthetic SQuAD-shaped data
def make_examples(n, vocab, seed, lc=(60, 260), lq=(6, 20), max_answer=15):
    "n random (context ids, question ids, start, end) with SQuAD-like lengths."
    g = random.Random(seed)
    out = []
    for _ in range(n):
        cl, ql = g.randint(*lc), g.randint(*lq)
        s = g.randrange(cl); e = min(cl - 1, s + g.randrange(max_answer))
        out.append(([g.randrange(3, vocab) for _ in range(cl)], [g.randrange(3, vocab) for _ in range(ql)], s, e))
    return out

def collate(exs):
    "Padded batch: (context_ids, context_lens, question_ids, question_lens, start, end)."
    cl, ql = torch.tensor([len(e[0]) for e in exs]), torch.tensor([len(e[1]) for e in exs])
    c = torch.full((len(exs), int(cl.max())), PAD); q = torch.full((len(exs), int(ql.max())), PAD)
    for i, (ci, qi, _, _) in enumerate(exs): c[i, :len(ci)] = torch.tensor(ci); q[i, :len(qi)] = torch.tensor(qi)
    return c, cl, q, ql, torch.tensor([e[2] for e in exs]), torch.tensor([e[3] for e in exs])

def random_batches(exs, bs, seed):
    exs = exs[:]; random.Random(seed).shuffle(exs)
    return [collate(exs[i:i+bs]) for i in range(0, len(exs) - bs + 1, bs)]

def bucketed_batches(exs, bs, seed, pool_batches=50):
    "Sort pools of `pool_batches` batches by context length, cut into batches, shuffle the batches."
    g = random.Random(seed); exs = exs[:]; g.shuffle(exs)
    batches, pool = [], bs * pool_batches
    for i in range(0, len(exs), pool):
        chunk = sorted(exs[i:i+pool], key=lambda e: (len(e[0]), len(e[1])))
        batches += [chunk[j:j+bs] for j in range(0, len(chunk) - bs + 1, bs)]
    g.shuffle(batches)
    return [collate(b) for b in batches]

# ---------------------------------------------------------------- the straightforward implementation
class NaiveLSTM(nn.Module):
    "An LSTM stepped one time step at a time in Python with `nn.LSTMCell`; state held where a sequence has ended."
    def __init__(self, d_in, hidden, reverse=False):
        super().__init__(); self.cell, self.hidden, self.reverse = nn.LSTMCell(d_in, hidden), hidden, reverse
    def forward(self, x, lens):
        B, T, _ = x.shape
        h = c = x.new_zeros(B, self.hidden); outs = [None] * T
        for t in (range(T - 1, -1, -1) if self.reverse else range(T)):
            live = (t < lens)[:, None]
            h2, c2 = self.cell(x[:, t], (h, c))
            h, c = torch.where(live, h2, h), torch.where(live, c2, c)
            outs[t] = h * live
        return torch.stack(outs, 1)

class NaiveHMN(nn.Module):
    "One highway maxout network, computed as written: W1 applied to [u_t; r] for every token at every call."
    def __init__(self, l, p):
        super().__init__(); self.l, self.p = l, p
        self.lin_D = nn.Linear(5*l, l, bias=False); self.lin1 = nn.Linear(3*l, l*p); self.lin2 = nn.Linear(l, l*p); self.lin3 = nn.Linear(2*l, p)
    def forward(self, U, h, us, ue):
        B, L, _ = U.shape
        r = torch.tanh(self.lin_D(torch.cat([h, us, ue], -1)))
        m1 = self.lin1(torch.cat([U, r[:, None].expand(B, L, self.l)], -1)).view(B, L, self.l, self.p).max(-1).values
        m2 = self.lin2(m1).view(B, L, self.l, self.p).max(-1).values
        return self.lin3(torch.cat([m1, m2], -1)).max(-1).values

class NaiveDCN(nn.Module):
    "The same DCN written the straightforward way."
    def __init__(self, cfg, emb):
        super().__init__(); l = self.l = cfg.hidden; self.cfg = cfg
        self.embed = nn.Embedding.from_pretrained(emb, freeze=True)
        self.enc = NaiveLSTM(cfg.emb_dim, l); self.q_proj = nn.Linear(l, l)
        self.doc_sentinel = nn.Parameter(torch.zeros(l)); self.q_sentinel = nn.Parameter(torch.zeros(l))
        self.fwd, self.bwd = NaiveLSTM(3*l, l), NaiveLSTM(3*l, l, reverse=True)
        self.cell = nn.LSTMCell(4*l, l); self.hmn_s, self.hmn_e = NaiveHMN(l, cfg.pool), NaiveHMN(l, cfg.pool)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, c, cl, q, ql):
        dev = c.device; lens = cl.tolist(); qlens = ql.tolist(); cl, ql = cl.to(dev), ql.to(dev)
        D = self.enc(self.drop(self.embed(c)), cl); Qp = self.enc(self.drop(self.embed(q)), ql)
        rows = []
        for b in range(c.size(0)):                                  # coattention, one example at a time
            m, n = lens[b], qlens[b]
            Db = torch.cat([D[b, :m], self.doc_sentinel[None]]).T                          # ℓ × (m+1)
            Qb = torch.tanh(self.q_proj(torch.cat([Qp[b, :n], self.q_sentinel[None]]))).T   # ℓ × (n+1)
            Lb = Db.T @ Qb
            CQ = Db @ Lb.softmax(0)
            CD = torch.cat([Qb, CQ]) @ Lb.T.softmax(0)
            rows.append(F.pad(torch.cat([Db[:, :m], CD[:, :m]]).T, (0, 0, 0, c.size(1) - m)))
        x = self.drop(torch.stack(rows))
        U = self.drop(torch.cat([self.fwd(x, cl), self.bwd(x, cl)], -1))
        B, L, _ = U.shape
        mask = mask_from_lengths(cl, L); ar = torch.arange(B, device=dev)
        s, e = torch.zeros_like(cl), cl - 1
        h = cst = U.new_zeros(B, self.l); starts, ends = [], []
        for _ in range(self.cfg.iterations):
            us, ue = U[ar, s], U[ar, e]
            h, cst = self.cell(torch.cat([us, ue], -1), (h, cst))
            a = self.hmn_s(U, h, us, ue).float().masked_fill(~mask, NEG_INF)
            bt = self.hmn_e(U, h, us, ue).float().masked_fill(~mask, NEG_INF)
            s, e = a.argmax(-1), bt.argmax(-1); starts.append(a); ends.append(bt)
        return DCNOutput(torch.stack(starts), torch.stack(ends), s, e)

    @torch.no_grad()
    def load_from(self, dcn):
        "Copy the weights of a `DCN` so both compute the same function."
        enc = dcn.encoder
        for cell, lstm, sfx in [(self.enc.cell, enc.encoder, ''), (self.fwd.cell, enc.fusion, ''), (self.bwd.cell, enc.fusion, '_reverse')]:
            for k in ('weight_ih', 'weight_hh', 'bias_ih', 'bias_hh'): getattr(cell, k).copy_(getattr(lstm, f'{k}_l0{sfx}'))
        self.q_proj.load_state_dict(enc.q_proj.state_dict())
        self.doc_sentinel.copy_(enc.doc_sentinel); self.q_sentinel.copy_(enc.q_sentinel)
        self.cell.load_state_dict(dcn.decoder.cell.state_dict())
        H = dcn.decoder.hmn
        for k, m in enumerate([self.hmn_s, self.hmn_e]):
            m.lin_D.weight.copy_(H.W_D[k].T)
            for i in (1, 2, 3): getattr(m, f'lin{i}').weight.copy_(getattr(H, f'W_{i}')[k].T); getattr(m, f'lin{i}').bias.copy_(getattr(H, f'b_{i}')[k])
        return self

# ---------------------------------------------------------------- timing
def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize(dev)

def train_steps(model, batches, dev, amp, warmup, steps):
    "Median seconds of a training step (fwd, loss, bwd, Adam step) over `steps` batches after `warmup`."
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    model.train(); times = []
    for i in range(warmup + steps):
        c, cl, q, ql, s, e = batches[i % len(batches)]
        sync(dev); t = time.perf_counter()
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=amp == 'bf16'):
            out = model(c, cl, q, ql)
        loss = dcn_loss(out, s, e, validate=False)
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        sync(dev)
        if i >= warmup: times.append(time.perf_counter() - t)
    assert torch.isfinite(loss), f"non-finite loss {loss}"
    return statistics.median(times)

def to_dev(b, dev):
    "Ids and targets to the device; lengths stay on the CPU (LSTM packing wants them there, no sync)."
    c, cl, q, ql, s, e = b
    return c.to(dev), cl, q.to(dev), ql, s.to(dev), e.to(dev)

def check_same(dcn, naive, batch, dev):
    "Both implementations must compute the same logits (fp32, no dropout)."
    dcn.eval(); naive.eval()
    with torch.no_grad():
        a, b = dcn(*batch[:4], early_stop=False), naive(*batch[:4])
    m = mask_from_lengths(batch[1].to(dev), batch[0].size(1))
    err = max((a.start_logits - b.start_logits)[:, m].abs().max().item(), (a.end_logits - b.end_logits)[:, m].abs().max().item())
    assert err < 1e-3, f"DCN and the straightforward implementation disagree by {err}"
    return err

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    p.add_argument('--amp', choices=['none', 'bf16'], default='none', help='bf16 autocast for the DCN (the baseline runs fp32)')
    p.add_argument('--batch-sizes', type=int, nargs='+', default=[64, 100])
    p.add_argument('--steps', type=int, default=None, help='timed steps per variant (default 20 on GPU, 2 on CPU)')
    p.add_argument('--warmup', type=int, default=None, help='untimed steps first (default 3 on GPU, 1 on CPU)')
    p.add_argument('--baseline-steps', type=int, default=None, help='timed steps of the baseline (default 5 on GPU, 1 on CPU)')
    p.add_argument('--compile', action='store_true', help='also time the HMN under torch.compile')
    p.add_argument('--threads', type=int, default=None, help='CPU threads for torch (default: torch\'s choice); on a busy shared CPU, 1 avoids OpenMP oversubscription')
    p.add_argument('--vocab', type=int, default=20000)
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    dev = torch.device(a.device); gpu = dev.type == 'cuda'
    if a.threads: torch.set_num_threads(a.threads)
    steps = a.steps or (20 if gpu else 2); warmup = a.warmup if a.warmup is not None else (3 if gpu else 1)
    bsteps = a.baseline_steps or (min(steps, 5) if gpu else 1)
    if gpu: torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True   # fp32 matmuls as TF32, both models
    torch.manual_seed(a.seed)
    cfg = DCNConfig.paper(a.vocab, emb_dim=50, dropout=0.3, pad_idx=PAD)   # hidden 200, pool 16, 4 iterations, words only
    emb = torch.randn(a.vocab, 50) * 0.4                        # stands in for frozen 50-d GloVe
    dcn = DCN(cfg, emb).to(dev)
    dcn.validate_inputs = False                                 # no host sync for id checks (the data is synthetic)
    naive = NaiveDCN(cfg, emb).to(dev).load_from(dcn)
    n_params = sum(p.numel() for p in dcn.parameters() if p.requires_grad)
    print(f"device {dev}{' (' + torch.cuda.get_device_name(dev) + ')' if gpu else f', {torch.get_num_threads()} threads'}; "
          f"amp {a.amp}; torch {torch.__version__}; DCN hidden 200, pool 16, 4 iterations, 50-d frozen embeddings, {n_params:,} trainable parameters")
    small = to_dev(collate(make_examples(4, a.vocab, a.seed + 99)), dev)
    print(f"check: DCN and baseline logits agree to {check_same(dcn, naive, small, dev):.1e} (fp32, same weights)")
    print(f"median of {steps} timed steps after {warmup} warm-up (baseline: {bsteps}); one step = fwd + loss + bwd + Adam")
    hmn = dcn.decoder.hmn
    rows = []
    for bs in a.batch_sizes:
        n_batches = warmup + max(steps, bsteps)
        exs = make_examples(bs * n_batches * 4, a.vocab, a.seed + bs)   # pool 4x what is timed so buckets are realistic
        rnd = [to_dev(b, dev) for b in random_batches(exs, bs, a.seed)[:n_batches]]
        bkt = [to_dev(b, dev) for b in bucketed_batches(exs, bs, a.seed)[:n_batches]]
        pad_r = sum(b[0].numel() for b in rnd) / sum(b[1].sum().item() for b in rnd)
        pad_b = sum(b[0].numel() for b in bkt) / sum(b[1].sum().item() for b in bkt)
        res = {}
        def run(name, *args):
            res[name] = train_steps(*args)
            print(f"  batch {bs} {name}: {res[name]:.3f} s/step", flush=True)
        run('baseline', naive, rnd, dev, 'none', min(warmup, 1), bsteps)
        run('dcn', dcn, rnd, dev, a.amp, warmup, steps)
        run('dcn+bucket', dcn, bkt, dev, a.amp, warmup, steps)
        if a.compile:
            dcn.decoder.hmn = torch.compile(hmn, dynamic=True)
            run('dcn+bucket+compile', dcn, bkt, dev, a.amp, warmup + 2, steps)
            dcn.decoder.hmn = hmn
        print(f"\nbatch {bs}: padded/real context tokens {pad_r:.2f} random, {pad_b:.2f} bucketed")
        print(f"{'variant':<22}{'s/step':>9}{'examples/s':>12}{'vs baseline':>13}")
        for k, t in res.items():
            print(f"{k:<22}{t:>9.3f}{bs/t:>12,.1f}{res['baseline']/t:>12.1f}x")
            rows.append((bs, k, bs / t, res['baseline'] / t))
    best = max(rows, key=lambda r: r[2])
    print(f"\nbest: {best[1]} at batch {best[0]}: {best[2]:,.1f} examples/s, {best[3]:.1f}x the baseline "
          f"(targets on one H100: >= 5,000 examples/s, >= 10x)")
