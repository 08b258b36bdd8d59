"""PyTorch's LTE training step for benchmarks/compare/train_step.sh (model vit-tiny-lte), written the way the LTE paper
did it on one device: torch vmap (functorch's in torch 1.13) over N heads of a functional ViT-Tiny.

Every linear layer but the classifier carries N LoRA heads of rank r on a shared, frozen base weight; every other
parameter (biases, LayerNorm affine, class token, position embedding, patch projection, classifier) has one replica
per head, as our Lte with its default averaged replicas. Head n runs on group n of the cumulative batch (vmap over
heads), the loss is the sum of the heads' mean cross-entropies, AdamW (foreach) steps all heads' stacked tensors at
once (element-wise, so exactly N separate optimizers), the loss is read with .item() as our LteTrainer does, and
every T steps a merge folds W += s/N sum_n B_n A_n, zeroes B and averages the replicas.
Prints "vit-tiny-lte<TAB>ms/step" (median of `repeats` loops of `steps` steps, after warm-up).
vit-s-lte-merge times one merge of a ViT-S with 8 heads of rank 64 instead.
"""
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

try:
    from torch.func import functional_call, vmap  # torch >= 2.0
except ImportError:  # torch 1.13
    from functorch import vmap
    from torch.nn.utils.stateless import functional_call

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_step_pytorch as models  # noqa: E402

HEADS, RANK, ALPHA, MERGE_EVERY = 4, 16, 4096.0, 10


class LoraLinear(nn.Module):
    """y = W x + b + s B A x with W frozen (shared by the heads) and A, B, b per head."""

    def __init__(self, linear, rank, scale):
        super().__init__()
        self.weight = nn.Parameter(linear.weight.detach().clone(), requires_grad=False)
        self.bias = nn.Parameter(linear.bias.detach().clone())
        self.lora_A = nn.Parameter(torch.empty(rank, linear.in_features))
        nn.init.orthogonal_(self.lora_A)
        self.lora_B = nn.Parameter(torch.zeros(linear.out_features, rank))
        self.scale = scale

    def forward(self, x):
        return F.linear(x, self.weight, self.bias) + F.linear(F.linear(x, self.lora_A) * self.scale, self.lora_B)


def lora_vit(rank=RANK, **config):
    vit = models.ViT(**config)
    for name, module in list(vit.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, nn.Linear) and child is not vit.head:
                setattr(module, child_name, LoraLinear(child, rank, ALPHA / rank))
    return vit


class VmapLte:
    """LTE on one device as the paper ran it: the model's trainable parameters stacked per head, vmap over the heads."""

    def __init__(self, model, heads_count=HEADS, lr=1e-4, weight_decay=0.05, merge_every=MERGE_EVERY):
        self.model, self.heads_count, self.merge_every, self.iteration = model, heads_count, merge_every, 0
        self.shared = {k: p for k, p in model.named_parameters() if not p.requires_grad}
        self.heads = {k: nn.Parameter(p.detach().unsqueeze(0).repeat(heads_count, *[1] * p.dim()))
                      for k, p in model.named_parameters() if p.requires_grad}
        decay = [p for k, p in self.heads.items() if "lora_" in k]
        no_decay = [p for k, p in self.heads.items() if "lora_" not in k]
        self.optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                                            {"params": no_decay, "weight_decay": 0.0}], lr=lr, foreach=True)

    def head_loss(self, params, x, y):
        return F.cross_entropy(functional_call(self.model, {**params, **self.shared}, (x,)), y)

    @torch.no_grad()
    def merge(self):
        for name, module in self.model.named_modules():
            if isinstance(module, LoraLinear):
                a, b = self.heads[f"{name}.lora_A"], self.heads[f"{name}.lora_B"]
                module.weight += module.scale / self.heads_count * torch.einsum("nor,nri->oi", b, a)
                b.zero_()
        for k, p in self.heads.items():
            if "lora_" not in k:
                p.copy_(p.mean(0, keepdim=True).expand_as(p))

    def step(self, images, labels):
        """One cumulative batch, group n to head n; returns the mean of the heads' losses (read with .item())."""
        groups = images.view(self.heads_count, -1, *images.shape[1:])
        total = vmap(self.head_loss)(self.heads, groups, labels.view(self.heads_count, -1)).sum()
        total.backward()
        self.optimizer.step()
        self.optimizer.zero_grad(set_to_none=True)
        loss = total.item() / self.heads_count
        self.iteration += 1
        if self.iteration % self.merge_every == 0:
            self.merge()
        return loss


def main():
    workload = sys.argv[1] if len(sys.argv) > 1 else "vit-tiny-lte"
    batch = int(sys.argv[2]) if len(sys.argv) > 2 else 128
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    repeats = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    torch.set_num_threads(models.intra_op_threads())
    torch.manual_seed(0)
    merge_only = workload == "vit-s-lte-merge"
    model = lora_vit(rank=64, width=384, depth=12, heads=6, mlp=1536) if merge_only else lora_vit()
    lte = VmapLte(model, heads_count=8 if merge_only else HEADS)
    images, labels = torch.randn(batch, 1, 28, 28), torch.randint(0, 10, (batch,))
    run = lte.merge if merge_only else lambda: lte.step(images, labels)
    print(f"{workload}\t{models.timed(run, steps, repeats):.2f}")


if __name__ == "__main__":
    main()
