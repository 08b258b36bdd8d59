"""The rows of the PlatonicAlignment summary that test the hypothesis, recomputed from the run's CSVs.

The quick run recorded here was started before the sample printed these rows itself (samples/PlatonicAlignment,
Program.cs: "trained, …"), plus the spread of the per-seed ρ and its one-sample t-test; this script computes the same quantities from alignment.csv and alignment-to-imagenet.csv
(Spearman's rho with average ranks for ties; two-sided p from the t approximation with n - 2 degrees of freedom, as the
sample's RankCorrelation and scipy.stats.spearmanr). On the tiny preset it reproduces the sample's rows to the last digit.
Usage: python3 per_seed.py RUN_FOLDER
"""
import csv, math, sys


def ranks(values):
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2
        i = j + 1
    return r


def spearman(x, y):
    rx, ry = ranks(x), ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    rho = cov / math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    n = len(x)
    t = rho * math.sqrt((n - 2) / (1 - rho * rho))
    # two-sided p of Student's t with n - 2 degrees of freedom, via the regularized incomplete beta function
    df = n - 2
    z = df / (df + t * t)
    p = incomplete_beta(df / 2, 0.5, z)
    return rho, p, n


def incomplete_beta(a, b, x, terms=200):
    # continued fraction (Numerical Recipes' betacf), enough for these p-values
    lbeta = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x)
    if x > (a + 1) / (a + b + 2):
        return 1 - incomplete_beta(b, a, 1 - x, terms)
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / d
    h = d
    for m in range(1, terms):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)), -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + num * d
            c = 1 + num / c
            d = 1 / d
            h *= d * c
    return math.exp(lbeta) * h / a


def seed(name):
    return name.rsplit("-s", 1)[1]


def family(name):
    return name.split("-")[0]


def one_sample_t(values):
    """Mean, sample std, and two-sided p of Student's t for mean = 0 (n - 1 degrees of freedom)."""
    n = len(values)
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    t = mean / (std / math.sqrt(n))
    return mean, std, incomplete_beta((n - 1) / 2, 0.5, (n - 1) / (n - 1 + t * t))


def row(label, rows, accuracy, score):
    rho, p, n = spearman([accuracy(r) for r in rows], [score(r) for r in rows])
    print(f"| {label} | {n} | {rho:.3f} | {p:.3g} | {sum(score(r) for r in rows) / n:.3f} |")
    return rho


run = sys.argv[1]
pairs = [r for r in csv.DictReader(open(f"{run}/alignment.csv")) if r["step"] != "0"]        # trained checkpoints
imagenet = [r for r in csv.DictReader(open(f"{run}/alignment-to-imagenet.csv")) if r["step"] != "0"]
across = [r for r in pairs if family(r["model_a"]) != family(r["model_b"])]
pair_accuracy = lambda r: (float(r["accuracy_a"]) + float(r["accuracy_b"])) / 2
model_accuracy = lambda r: float(r["test_accuracy"])
score = lambda r: float(r["mutual_knn"])
seeds = sorted({seed(r["model_a"]) for r in pairs})
print("| pairs | count | Spearman ρ | p-value | mean alignment |")
print("|---|---:|---:|---:|---:|")
row("trained, different families", across, pair_accuracy, score)
row("trained, same family", [r for r in pairs if family(r["model_a"]) == family(r["model_b"])], pair_accuracy, score)
per_seed = [row(f"trained, different families, seed {s} only", [r for r in across if seed(r["model_a"]) == s and seed(r["model_b"]) == s], pair_accuracy, score) for s in seeds]
row("model vs ImageNet ResNet-18, trained", imagenet, model_accuracy, score)
per_seed_imagenet = [row(f"model vs ImageNet ResNet-18, trained, seed {s} only", [r for r in imagenet if seed(r["model"]) == s], model_accuracy, score) for s in seeds]
if len(seeds) > 1:
    for label, values in (("different families", per_seed), ("vs ImageNet ResNet-18", per_seed_imagenet)):
        mean, std, p = one_sample_t(values)
        print(f"\nρ over seeds, {label}: {mean:.3f} ± {std:.3f} ({len(values)} seeds), one-sample t-test of ρ = 0: p = {p:.3g}")
