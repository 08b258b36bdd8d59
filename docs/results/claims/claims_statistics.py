"""Recomputes the statistics of the claims table in docs/results.md (issue 33) from the committed CSVs.

Run from the repository root: /usr/bin/python3 docs/results/claims/claims_statistics.py
Welch's two-sided t-test (unequal variances, Welch-Satterthwaite degrees of freedom) is written out here with the
Student-t CDF through the regularised incomplete beta function (Numerical Recipes' continued fraction), so that no
SciPy is needed; it gives the p-values of samples/Common/Statistics/WelchTest.cs (checked on the LoRA-variants table:
p = 0.729, 0.194, 0.381).
"""
import glob, csv, json, math, re, statistics as st
from collections import defaultdict
def betacf(a,b,x):
    MAXIT=300; EPS=1e-15; FPMIN=1e-300
    qab=a+b; qap=a+1; qam=a-1; c=1; d=1-qab*x/qap
    if abs(d)<FPMIN: d=FPMIN
    d=1/d; h=d
    for m in range(1,MAXIT+1):
        m2=2*m; aa=m*(b-m)*x/((qam+m2)*(a+m2))
        d=1+aa*d; d=FPMIN if abs(d)<FPMIN else d; c=1+aa/c; c=FPMIN if abs(c)<FPMIN else c
        d=1/d; h*=d*c
        aa=-(a+m)*(qab+m)*x/((a+m2)*(qap+m2))
        d=1+aa*d; d=FPMIN if abs(d)<FPMIN else d; c=1+aa/c; c=FPMIN if abs(c)<FPMIN else c
        d=1/d; de=d*c; h*=de
        if abs(de-1)<EPS: break
    return h
def betai(a,b,x):
    if x<=0: return 0.0
    if x>=1: return 1.0
    bt=math.exp(math.lgamma(a+b)-math.lgamma(a)-math.lgamma(b)+a*math.log(x)+b*math.log(1-x))
    if x<(a+1)/(a+b+2): return bt*betacf(a,b,x)/a
    return 1-bt*betacf(b,a,1-x)/b
def welch(x,y):
    m1,m2=st.mean(x),st.mean(y); v1,v2=st.variance(x),st.variance(y); n1,n2=len(x),len(y)
    a,b=v1/n1,v2/n2; t=(m1-m2)/math.sqrt(a+b); df=(a+b)**2/(a*a/(n1-1)+b*b/(n2-1))
    p=betai(df/2,0.5,df/(df+t*t))
    return m1-m2,t,df,p
def pearson(x, y):
    """Pearson's r over paired samples and its two-sided test (t with n − 2 degrees of freedom)."""
    r = st.correlation(x, y)
    t = r * math.sqrt((len(x) - 2) / (1 - r * r))
    return r, t, betai((len(x) - 2) / 2, 0.5, (len(x) - 2) / (len(x) - 2 + t * t))
def welch_stats(m1,s1,n1,m2,s2,n2):
    a,b=s1*s1/n1,s2*s2/n2; t=(m1-m2)/math.sqrt(a+b); df=(a+b)**2/(a*a/(n1-1)+b*b/(n2-1))
    return m1-m2,t,df,betai(df/2,0.5,df/(df+t*t))
def t_critical(df, p=0.05):
    """Two-sided critical value of Student's t: the t whose two-sided p is p (bisection on betai)."""
    lo, hi = 0.0, 100.0
    for _ in range(100):
        t = (lo + hi) / 2
        lo, hi = (t, hi) if betai(df / 2, 0.5, df / (df + t * t)) > p else (lo, t)
    return t
def ms(x): return st.mean(x), (st.stdev(x) if len(x)>1 else 0)


def fmt(r):
    return "diff %+.4g, t %.2f, df %.1f, p %.3g" % r


def M(x, k=2):
    m, s = ms(x)
    return f"{m:.{k}f} ± {s:.{k}f}"


def rows(path):
    return list(csv.DictReader(open(path)))


def by(table, key, value, scale=100.0, keep=lambda r: True):
    g = defaultdict(list)
    for r in table:
        if keep(r):
            g[r[key]].append(scale * float(r[value]))
    return g


R = "docs/results/"
g = by(rows(R + "lora-variants/transfer-runs.csv"), "method", "final_test_accuracy")
for m in ("dora", "pissa", "olora"):
    print("LoRA variants", m, M(g[m]), "vs lora", M(g["lora"]), fmt(welch(g[m], g["lora"])))
# Early in the run (the first two evaluations), from the curves.
for samples in ("1600", "3200"):
    e = by(rows(R + "lora-variants/transfer-curves.csv"), "method", "test_accuracy", keep=lambda r: r["samples"] == samples)
    for m in ("dora", "pissa", "olora"):
        print(f"LoRA variants at {samples} samples", m, M(e[m]), "vs lora", M(e["lora"]), fmt(welch(e[m], e["lora"])))
t = by(rows(R + "lora-variants/transfer-runs.csv"), "method", "seconds_per_step", scale=1000.0)
for m in ("dora", "pissa", "olora"):
    print("LoRA variants ms per step", m, M(t[m], 1), "vs lora", M(t["lora"], 1), fmt(welch(t[m], t["lora"])))

g = by(rows(R + "overparam/cnn_fashion_mnist.csv"), "config", "best_test_accuracy")
for k in g:
    if k != "original":
        print("Table 2.1/2.3 quick", k, M(g[k]), fmt(welch(g[k], g["original"])))
# Every chosen run, and again without the runs that diverged (training loss NaN), which have no place in a mean of
# trained models.
for label, finite in (("", lambda r: True), (", diverged runs left out", lambda r: math.isfinite(float(r["train_loss"])))):
    g = by(rows(R + "overparam-converged/cnn_fashion_mnist.csv"), "config", "best_test_accuracy", keep=lambda r: r["chosen"] == "yes" and finite(r))
    for k in g:
        if k != "original":
            print(f"Table 2.1 converged{label}", k, len(g[k]), M(g[k]), "vs original", M(g["original"]), fmt(welch(g[k], g["original"])))
# Figure 2.7 from converged models: the final model's Gram effective rank, recorded per run since issue 33 (older rows
# have an empty cell).
g = by(rows(R + "overparam-converged/cnn_fashion_mnist.csv"), "config", "gram_effective_rank", scale=1.0,
       keep=lambda r: r["chosen"] == "yes" and r["gram_effective_rank"] not in ("", "NaN"))
for k in g:
    if k != "original" and len(g[k]) > 1 and len(g["original"]) > 1:
        print("Figure 2.7 Gram exp(H), final model", k, M(g[k]), "vs original", M(g["original"]), fmt(welch(g[k], g["original"])))

# Figure 2.1 at the thesis' setting (ReLU, width 64): log10 of the relative training loss per (depth, rank), over seeds.
ls = defaultdict(list)
for r in rows(R + "overparam-relu/least_squares.csv"):
    ls[(int(r["depth"]), int(r["rank"]))].append(math.log10(max(float(r["relative_loss"]), 1e-16)))
depths, ranks = sorted({d for d, _ in ls}), sorted({k for _, k in ls})
for d in depths:
    print("Figure 2.1 ReLU depth", d, " ".join(f"r{k}: {M(ls[(d, k)])} (n {len(ls[(d, k)])})" for k in ranks), "(log10 loss)")
top, low = ranks[-1], ranks[0]
print("Figure 2.1 ReLU, rank", top, ": depth", depths[-1], "vs", depths[0], fmt(welch(ls[(depths[-1], top)], ls[(depths[0], top)])))
for d in depths[1:]:
    for other in (low, ranks[-2]):
        print("Figure 2.1 ReLU, depth", d, ": rank", top, "vs", other, fmt(welch(ls[(d, top)], ls[(d, other)])))
for d1, d2 in zip(depths, depths[1:]):
    print("Figure 2.1 ReLU, rank", top, ": depth", d2, "vs", d1, fmt(welch(ls[(d2, top)], ls[(d1, top)])))
# The thesis draws the loss growing with the target's rank: do ranks 1 and 4 fit better than rank 16 (negative diff)?
for d in depths[1:]:
    for k in (ranks[0], ranks[1]):
        print("Figure 2.1 ReLU, depth", d, ": rank", k, "vs 16", fmt(welch(ls[(d, k)], ls[(d, 16)])))

# LTE appendix A.2 (LeastSquaresMerge): per seed and merge period T, the first step at which the loss is below 1e-3 of its
# start (empty: never), and the final loss ratio.
lsq = defaultdict(list)
for r in rows(R + "lte-least-squares-steps.csv"):
    lsq[int(r["merge_every"])].append(r)
print(f"LTE least squares, no merging ({len(lsq[0])} seeds): final loss ratio", M([float(r["final_loss_ratio"]) for r in lsq[0]], 3),
      "; ever below 1e-3:", sum(r["steps_to_1e-3"] != "" for r in lsq[0]))
reach = {T: [int(r["steps_to_1e-3"]) for r in lsq[T] if r["steps_to_1e-3"]] for T in lsq if T > 0}
for T in sorted(reach):
    print(f"LTE least squares, T = {T}: below 1e-3 from step {M(reach[T], 0)} ({len(reach[T])} of {len(lsq[T])} seeds)")
for fast, slow in ((10, 50), (50, 200)):
    print(f"LTE least squares, steps to 1e-3, T = {fast} vs {slow}", fmt(welch(reach[fast], reach[slow])))

last = {}
for r in rows(R + "model-merging/merging.csv"):
    key = (r["setting"], float(r["weight_decay"]), r["draw"])
    if key not in last or int(r["step"]) >= int(last[key]["step"]):
        last[key] = r


def merged(setting, wd):
    return [(float(r["merged_loss_a"]) + float(r["merged_loss_b"])) / 2 for k, r in sorted(last.items()) if k[0] == setting and k[1] == wd]


def column(setting, wd, c):
    return [float(r[c]) for k, r in sorted(last.items()) if k[0] == setting and k[1] == wd]


o, s = merged("orthogonal inputs", 1e-4), merged("shared inputs", 1e-4)
print("merging, λ 1e-4, shared vs orthogonal", M(s, 4), M(o, 4), fmt(welch(s, o)))
print("merging, orthogonal, λ 1e-4 vs 0", M(o, 4), M(merged("orthogonal inputs", 0), 4), fmt(welch(o, merged("orthogonal inputs", 0))))
for wd in (0, 1e-4, 1e-3, 1e-2):
    a, m = column("orthogonal inputs", wd, "stable_rank_sqrt_a"), column("orthogonal inputs", wd, "stable_rank_sqrt_merged")
    print("‖W‖F/‖W‖₂ λ", wd, "A", M(a, 3), "merged", M(m, 3), "merged/A per draw", M([y / x for x, y in zip(a, m)], 3), fmt(welch(m, a)))

d = {(r["activation"], r["depth"]): (float(r["mean_rho"]), float(r["std_rho"]), int(r["samples"])) for r in rows(R + "overparam/random_rank_summary.csv")}
for act in ("linear", "relu"):
    a, b = d[(act, "1")], d[(act, "8")]
    print("random networks", act, "depth 8 vs 1", fmt(welch_stats(b[0], b[1], b[2], a[0], a[1], a[2])))


def seeds(wd):
    return sorted(int(p.split("-seed")[1][:-4]) for p in glob.glob(R + f"grokking-nanda/{wd}-seed*.csv"))


def final(wd, c, scale=1.0):
    return [scale * float(rows(R + f"grokking-nanda/{wd}-seed{s}.csv")[-1][c]) for s in seeds(wd)]


print("grokking test accuracy wd 1 vs 0", M(final("wd1", "test_accuracy", 100)), M(final("wd0", "test_accuracy", 100)),
      fmt(welch(final("wd1", "test_accuracy", 100), final("wd0", "test_accuracy", 100))))
print("grokking attn.q exp(H) wd 1 vs 0", M(final("wd1", "effective_rank_attention")), M(final("wd0", "effective_rank_attention")))
# The mean exp(H)/R of the 8 matrices other than attn.q (R = 128 for attn.q): its fall per 1,000 steps over 500-step
# windows, its minimum after the memorisation phase, and the first window at twice that rate vs the 50 % crossing. The
# test of "rank collapse coincides with grokking": over seeds, does that onset track the crossing (Pearson r, t with n − 2
# df)? (Its fall after vs before the crossing is no test of timing: the fall speeds up through this phase anyway.)
onsets, crossings = [], []
for s in seeds("wd1"):
    t = rows(R + f"grokking-nanda/wd1-seed{s}.csv")
    steps = [int(r["step"]) for r in t]
    other = [(9 * float(r["mean_normalized_effective_rank"]) - float(r["effective_rank_attention"]) / 128) / 8 for r in t]
    crossing = next(a for a, b in zip(steps, t) if float(b["test_accuracy"]) >= 0.5)
    rate = [(steps[i], 1000 * (other[i] - other[i + 5]) / 500) for i in range(steps.index(3000), len(steps) - 5, 5)]
    slowest = min((x for x in rate if x[0] <= crossing), key=lambda x: x[1])
    doubled = next(x for x, v in rate if x > slowest[0] and v >= 2 * slowest[1])
    print(f"grokking seed {s}: slowest fall {slowest[1]:.4f}/1k steps at {slowest[0]}, twice that from window {doubled}, test >= 50 % at {crossing}")
    onsets.append(doubled)
    crossings.append(crossing)
print("grokking, onset of the other matrices' faster fall vs the 50 %% crossing over seeds: r %.3f, t %.2f, p %.3g" % pearson(onsets, crossings),
      "; without the latest-crossing seed: r %.3f, t %.2f, p %.3g" % pearson(*zip(*sorted(zip(onsets, crossings), key=lambda oc: oc[1])[:-1])),
      "; onset - crossing", M([o - c for o, c in zip(onsets, crossings)], 0))

# Alignment of embed -> attn.q (Yunis et al. fig. 2, last column; the scalar of the CSVs' alignment_embed_attention):
# with weight decay (grokking) vs without, its peak over the run and its final value; with weight decay, the 1,000 steps
# after each seed's 50 % crossing vs the 1,000 before.
def alignment(wd, s):
    t = rows(R + f"grokking-nanda/{wd}-seed{s}.csv")
    return [int(r["step"]) for r in t], [float(r["alignment_embed_attention"]) for r in t], t
peak = {wd: [max(alignment(wd, s)[1]) for s in seeds(wd)] for wd in ("wd1", "wd0")}
print("grokking alignment embed->attn.q, peak over the run, wd 1 vs 0", M(peak["wd1"], 3), M(peak["wd0"], 3), fmt(welch(peak["wd1"], peak["wd0"])))
a1, a0 = final("wd1", "alignment_embed_attention"), final("wd0", "alignment_embed_attention")
print("grokking alignment embed->attn.q, final, wd 1 vs 0", M(a1, 3), M(a0, 3), fmt(welch(a1, a0)))
before, after = [], []
for s in seeds("wd1"):
    steps, a, t = alignment("wd1", s)
    crossing = next(x for x, r in zip(steps, t) if float(r["test_accuracy"]) >= 0.5)
    before.append(st.mean(v for x, v in zip(steps, a) if crossing - 1000 <= x < crossing))
    after.append(st.mean(v for x, v in zip(steps, a) if crossing <= x < crossing + 1000))
print("grokking alignment embed->attn.q, wd 1, 1,000 steps after vs before the 50 % crossing", M(after, 3), M(before, 3), fmt(welch(after, before)))

# Every consecutive pair (grokking-nanda/pair-alignment.csv, from the runs' monitor records by pair_alignment.py, with
# each run's own test accuracy): the same three comparisons per pair, and where each seed's peak lies relative to its
# 50 % crossing.
pairs = rows(R + "grokking-nanda/pair-alignment.csv")
pair_names = [c for c in pairs[0] if "->" in c]
def pair_runs(wd):
    return {s: [r for r in pairs if r["weight_decay"] == wd and int(r["seed"]) == s] for s in sorted({int(r["seed"]) for r in pairs if r["weight_decay"] == wd})}
def crossing_of(t):
    return next(int(r["step"]) for r in t if float(r["test_accuracy"]) >= 0.5)
with_decay, without = pair_runs("1"), pair_runs("0")
print(f"grokking pair alignment: weight decay 1 seeds {sorted(with_decay)}, 0 seeds {sorted(without)}")
for name in pair_names:
    def series(t): return [int(r["step"]) for r in t], [float(r[name]) for r in t]
    before, after, peak_offset = [], [], []
    for s, t in with_decay.items():
        steps, a = series(t)
        c = crossing_of(t)
        before.append(st.mean(v for x, v in zip(steps, a) if c - 1000 <= x < c))
        after.append(st.mean(v for x, v in zip(steps, a) if c <= x < c + 1000))
        peak_offset.append(steps[a.index(max(a))] - c)
    line = f"  {name}: wd 1, after vs before the crossing {M(after, 3)} vs {M(before, 3)}"
    line += f" ({fmt(welch(after, before))})" if len(after) > 1 else ""
    line += f"; peak at crossing {', '.join(f'{o:+d}' for o in peak_offset)}"
    if len(with_decay) > 1 and len(without) > 1:
        p1, p0 = [max(series(t)[1]) for t in with_decay.values()], [max(series(t)[1]) for t in without.values()]
        f1, f0 = [series(t)[1][-1] for t in with_decay.values()], [series(t)[1][-1] for t in without.values()]
        line += f"; peak wd 1 vs 0 {M(p1, 3)} vs {M(p0, 3)} ({fmt(welch(p1, p0))}); final {M(f1, 3)} vs {M(f0, 3)} ({fmt(welch(f1, f0))})"
    print(line)

# LTE Table 1 grid: seed 0 in lte-grid/, seed S in lte-grid/seedS/. Per cell mean ± std over the seeds; per factor, each
# seed's mean over the other settings at the high and the low level (one number per seed and level), Welch over seeds.
grid_seeds = [R + "lte-grid"] + sorted(glob.glob(R + "lte-grid/seed*"))
def grid_rows(i, folder):
    """grid.csv's cells with the training and test loss of run.log's final line of each cell (in grid.csv's order)."""
    finals = [re.search(r"train loss ([\d.]+)\s+test loss ([\d.]+)\s+test acc ([\d.]+)%", l) for l in open(folder + "/run.log") if l.lstrip().startswith("lte ")]
    cells = rows(folder + "/grid.csv")
    assert len(finals) == len(cells) and all(abs(100 * float(c["test_accuracy"]) - float(m[3])) < 0.006 for c, m in zip(cells, finals)), folder
    return [dict(c, seed=str(i), train_loss=m[1], test_loss=m[2]) for c, m in zip(cells, finals)]
grid = [r for i, f in enumerate(grid_seeds) for r in grid_rows(i, f)]
full = [100 * float([r for r in rows(f + "/curves.csv") if r["method"] == "full"][-1]["test_accuracy"]) for f in grid_seeds]
print(f"LTE grid: {len(grid_seeds)} seeds; full rank {M(full)}")
cells = defaultdict(list)
for r in grid:
    cells[(int(r["heads"]), int(r["rank"]), int(r["merge_every"]))].append(100 * float(r["test_accuracy"]))
def cell_values(c, column, scale=1.0):
    return [scale * float(r[column]) for r in grid if (int(r["heads"]), int(r["rank"]), int(r["merge_every"])) == c]
for c in sorted(cells):
    print(f"  N {c[0]} r {c[1]} T {c[2]}: {M(cells[c])} (n {len(cells[c])}); training loss {M(cell_values(c, 'train_loss'), 3)}, "
          f"test loss {M(cell_values(c, 'test_loss'), 3)}; vs full rank {fmt(welch(cells[c], full))}")
for key, hi, lo in (("heads", "8", "2"), ("heads", "4", "2"), ("heads", "8", "4"), ("rank", "32", "8"), ("merge_every", "10", "50")):
    for column, scale, k in (("test_accuracy", 100.0, 2), ("train_loss", 1.0, 3)):
        a = [st.mean(scale * float(r[column]) for r in grid if r["seed"] == s and r[key] == hi) for s in sorted({r["seed"] for r in grid})]
        b = [st.mean(scale * float(r[column]) for r in grid if r["seed"] == s and r[key] == lo) for s in sorted({r["seed"] for r in grid})]
        print(f"LTE grid {key} {hi} vs {lo}, {column} (per-seed means over the other settings)", M(a, k), M(b, k), fmt(welch(a, b)))

# The same trends at one cell (N = 4) with 5 seeds: issue 37's runs (docs/results/lte-controller), final evaluation.
def cell(folder_prefix, merge_every, rank, column="test_accuracy", scale=100.0):
    out = []
    for folder in sorted(glob.glob(R + f"lte-controller/{folder_prefix}-s*")):
        runs = [r for r in rows(folder + "/grid-curves.csv") if r["merge_every"] == merge_every and r["rank"] == rank]
        if runs:
            out.append(scale * float(max(runs, key=lambda r: int(r["step"]))[column]))
    return out
t10, t50 = cell("fixed", "10", "8"), cell("fixed", "50", "8")
print("LTE N=4 r=8, 5 seeds: T 10 vs 50", M(t10), M(t50), fmt(welch(t10, t50)),
      "train loss", M(cell("fixed", "10", "8", "train_loss", 1.0), 3), M(cell("fixed", "50", "8", "train_loss", 1.0), 3))
r32 = cell("fixed32", "10", "32")
print("LTE N=4 T=10, 5 seeds: r 32 vs 8", M(r32), M(t10), fmt(welch(r32, t10)))

# attn.q's and attn.k's singular values in seed 0's monitor records against AdamW's decoupled decay alone,
# σᵢ(t) = σᵢ(0)·exp(−lr·λ·t) with lr = 10⁻³, λ = 1 (the directions their rank-1-per-head gradients never reach).
records = [json.loads(line) for line in open(R + "grokking-nanda/wd1-seed0/spectral.jsonl")]
for name in ("blocks.0.attn.q", "blocks.0.attn.k"):
    start = next(l for l in records[0]["Layers"] if l["Name"] == name)["SingularValues"]
    for step in (3000, 6000, 9000):
        layer = next(l for l in next(r for r in records if r["Step"] == step)["Layers"] if l["Name"] == name)
        ratios = [layer["SingularValues"][i] / (start[i] * math.exp(-1e-3 * step)) for i in range(1, 10)]
        print(f"{name} step {step}: exp(H) {layer['EffectiveRank']:.2f}, σ1..σ5 {[round(v, 4) for v in layer['SingularValues'][:5]]}, "
              f"σ2..σ10 / prediction {[round(v, 2) for v in ratios]}")

# VitPretraining runs repeated with --seed S keep seed S's curves.csv in <run>/seedS/ (seed 0 in <run>/): each
# method's final test accuracy (%) per seed folder that ran it, in seed order.
def vit_finals(run):
    finals = defaultdict(list)
    for folder in [R + run] + sorted(glob.glob(R + run + "/seed*")):
        for method, r in {r["method"]: r for r in rows(folder + "/curves.csv")}.items():  # each method's final evaluation
            finals[method].append(100 * float(r["test_accuracy"]))
    return finals

# NF4 vs float32 base (VitPretraining --preset small): NF4 − float32 by Welch over the seeds and, since each seed shares
# initial weights and data order between a method and its NF4 twin, the mean ± std and 95 % CI of the per-seed differences.
nf4 = vit_finals("vit-nf4")
for base in ("lora", "lte"):
    a, b = nf4[base + "-nf4"], nf4[base]
    if len(a) > 1:
        d = [x - y for x, y in zip(a, b)]
        half = t_critical(len(d) - 1) * st.stdev(d) / math.sqrt(len(d))
        print(f"NF4 {base}: {len(a)} seeds, NF4 {M(a)} vs float32 {M(b)}: {fmt(welch(a, b))}; per-seed differences {M(d)}, "
              f"95 % CI {st.mean(d) - half:+.2f} … {st.mean(d) + half:+.2f}")

# LTE figure 4 at the long budget (VitPretraining --preset long): each method against full rank and LoRA + merge against
# LoRA, over the seeds each ran.
long_runs = vit_finals("vit-long")
for a, b in (("lora", "full"), ("lte", "full"), ("lora-merge", "lora")):
    if len(long_runs[a]) > 1 and len(long_runs[b]) > 1:
        print(f"LTE fig. 4 long: {a} ({len(long_runs[a])} seeds) {M(long_runs[a])} vs {b} ({len(long_runs[b])} seeds) {M(long_runs[b])}: {fmt(welch(long_runs[a], long_runs[b]))}")

# Spectral dynamics (Yunis et al. figs. 3, 4, 6): seed 0 in spectral-dynamics/, seed S in spectral-dynamics/seedS/.
# Final mean exp(H)/R per weight decay, each decay against none; final pruned accuracies (classifier kept: seed 0's
# from its re-run pruning-wd0.csv, later seeds' from their wd0 rows) against the full model.
sd_seeds = [R + "spectral-dynamics"] + sorted(glob.glob(R + "spectral-dynamics/seed*"))
sd_final = defaultdict(list)
for folder in sd_seeds:
    for r in {r["run"]: r for r in rows(folder + "/spectral-dynamics.csv")}.values():  # each run's last record
        sd_final[r["run"]].append(float(r["mean_normalized_effective_rank"]))
        sd_final[r["run"] + " test accuracy"].append(100 * float(r["test_accuracy"]))
sd_start = [float(next(r for r in rows(f + "/spectral-dynamics.csv") if r["run"] == "wd0")["mean_normalized_effective_rank"]) for f in sd_seeds]
if len(sd_start) > 1:
    print(f"spectral dynamics wd0, exp(H)/R at the end vs at the start ({len(sd_start)} seeds):", M(sd_final["wd0"], 3), M(sd_start, 3), fmt(welch(sd_final["wd0"], sd_start)))
for run in ("wd0.0001", "wd0.001", "wd0.01"):
    if len(sd_final[run]) > 1:
        print(f"spectral dynamics {run} vs wd0, final exp(H)/R ({len(sd_final[run])} seeds):", M(sd_final[run], 3), M(sd_final["wd0"], 3), fmt(welch(sd_final[run], sd_final["wd0"])))
        a, b = sd_final[run + " test accuracy"], sd_final["wd0 test accuracy"]
        print(f"  test accuracy {M(a)} vs {M(b)}: {fmt(welch(a, b))}")
pruned = [rows(f + "/pruning-wd0.csv")[-1] if glob.glob(f + "/pruning-wd0.csv") else [r for r in rows(f + "/spectral-dynamics.csv") if r["run"] == "wd0"][-1] for f in sd_seeds]
if len(pruned) > 1:
    full_acc, no_bottom, no_top = ([100 * float(r[c]) for r in pruned] for c in ("test_accuracy", "test_accuracy_bottom_half_removed", "test_accuracy_top_half_removed"))
    print(f"pruning at the end ({len(pruned)} seeds): full {M(full_acc)}, bottom half removed {M(no_bottom)} ({fmt(welch(no_bottom, full_acc))}), "
          f"top half removed {M(no_top)} ({fmt(welch(no_top, full_acc))})")
mem = defaultdict(list)
for folder in sd_seeds:
    for r in {r["labels"]: r for r in rows(folder + "/memorisation.csv")}.values() if glob.glob(folder + "/memorisation.csv") else []:
        mem[r["labels"]].append(float(r["mean_normalized_effective_rank"]))
if len(mem["random labels"]) > 1:
    print(f"memorisation, exp(H)/R at 100 % train accuracy ({len(mem['random labels'])} seeds): random {M(mem['random labels'], 3)} vs true {M(mem['true labels'], 3)}: "
          f"{fmt(welch(mem['random labels'], mem['true labels']))}")
# LTE at equal cumulative samples: its evaluation nearest full rank's final sample count, per seed folder that ran both.
equal = []
for folder in [R + "vit-long"] + sorted(glob.glob(R + "vit-long/seed*")):
    t = rows(folder + "/curves.csv")
    full_end = max(int(r["samples"]) for r in t if r["method"] == "full")
    lte = [r for r in t if r["method"] == "lte"]
    if lte:
        equal.append(100 * float(min(lte, key=lambda r: abs(int(r["samples"]) - full_end))["test_accuracy"]))
if len(equal) > 1:
    print(f"LTE fig. 4 long: lte at full rank's cumulative samples ({len(equal)} seeds) {M(equal)} vs full {M(long_runs['full'])}: {fmt(welch(equal, long_runs['full']))}")

# LTE figure 4 at the quick budget (VitPretraining --preset quick, 156 steps), 5 seeds since issue 33 (vit-quick; the
# one-seed vit-pretraining run predates the sample's fix that trains every parameter in every method).
quick = vit_finals("vit-quick")
for a, b in (("lora", "full"), ("lora-merge", "lora"), ("lora-merge", "full")):
    print(f"LTE fig. 4 quick: {a} ({len(quick[a])} seeds) {M(quick[a])} vs {b} ({len(quick[b])} seeds) {M(quick[b])}: {fmt(welch(quick[a], quick[b]))}")
