"""Where ResNet-18's batch-1 inference time goes in libtorch 1.13 (the library our engine binds), measured in PyTorch.

  OMP_WAIT_POLICY=PASSIVE python3 benchmarks/compare/resnet18_inference_pytorch.py [SIZE=64] [THREADS=2]

1. aten ops of one eval forward (torch.autograd.profiler): which convolution kernel libtorch picks.
2. One 64-channel 3x3 convolution at batch 1 (layer1's at 64 px): aten::conv2d vs aten::mkldnn_convolution, CPU ms.
3. The whole model, eval + no_grad, sides interleaved per round: eager; BatchNorm folded (torch.fx.experimental.
   optimization.fuse); every convolution forced onto oneDNN (torch.mkldnn_convolution on dense tensors, what our
   MkldnnConv2d does); both; optimize_for_inference (fold + oneDNN layout throughout). Wall ms (fastest, median) and
   process CPU ms per forward. OMP_WAIT_POLICY=PASSIVE is what our engine sets (ProcessSettings).
"""
import copy, sys, time
import torch, torch.nn as nn, torch.nn.functional as F, torchvision
import torch.fx.experimental.optimization as fx_opt

size = int(sys.argv[1]) if len(sys.argv) > 1 else 64
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
torch.set_num_threads(threads)
torch.manual_seed(0)
base = torchvision.models.resnet18().eval()
x = torch.randn(1, 3, size, size)

with torch.no_grad(), torch.autograd.profiler.profile() as prof:
    for _ in range(5): base(x)
convs = {e.key: e.count // 5 for e in prof.key_averages() if e.key in ("aten::_slow_conv2d_forward", "aten::mkldnn_convolution")}
print(f"1. convolution kernels per forward at {size} px, batch 1: {convs}")


class OneDnnConv(nn.Module):
    def __init__(self, conv): super().__init__(); self.c = conv
    def forward(self, t):
        c = self.c
        return torch.mkldnn_convolution(t, c.weight, c.bias, c.padding, c.stride, c.dilation, c.groups)


def onednn(model):
    model = copy.deepcopy(model)
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if isinstance(child, nn.Conv2d): setattr(module, name, OneDnnConv(child))
    return model


def cpu_ms(f, n):
    f(); t = time.process_time()
    for _ in range(n): f()
    return (time.process_time() - t) / n * 1e3


with torch.no_grad():
    w, b, h = torch.randn(64, 64, 3, 3), torch.randn(64), torch.randn(1, 64, 16, 16)
    print("2. 64->64 3x3 conv, 1x64x16x16: aten::conv2d %.2f ms CPU, aten::mkldnn_convolution %.2f ms CPU" % (
        cpu_ms(lambda: F.conv2d(h, w, b, 1, 1), 200), cpu_ms(lambda: torch.mkldnn_convolution(h, w, b, [1, 1], [1, 1], [1, 1], 1), 200)))

    fused = fx_opt.fuse(copy.deepcopy(base))
    sides = {"eager": base, "BatchNorm folded": fused, "convolutions on oneDNN": onednn(base),
             "folded + oneDNN": onednn(fused), "optimize_for_inference": fx_opt.optimize_for_inference(copy.deepcopy(base))}
    reference = base(x)
    for name, m in sides.items():
        assert (m(x) - reference).abs().max() < 1e-4, name
    wall = {k: [] for k in sides}; cpu = {k: [] for k in sides}
    for _ in range(7):
        for name, m in sides.items():
            t, c = time.perf_counter(), time.process_time()
            for _ in range(10): m(x)
            wall[name].append((time.perf_counter() - t) * 100); cpu[name].append((time.process_time() - c) * 100)
    print(f"3. ResNet-18, {size} px, batch 1, {threads} threads (ms per forward):")
    for name in sides:
        print(f"   {name:24s} wall fastest {min(wall[name]):6.2f} median {sorted(wall[name])[3]:6.2f}   CPU fastest {min(cpu[name]):6.2f}")
