// Checks the CUDA path end to end: device visible, float32 and bfloat16 matmul agree with the CPU, autograd on the
// GPU matches the CPU gradient, memory statistics readable, mixed-precision training (autocast, loss scaling, master
// weights) tracks float32 training. Exit code 0 only when every check passes.

new ProgramCommand("gpu-check", "Checks the CUDA path end to end (matmul, autograd, memory statistics, mixed precision); exit code 0 only when every check passes.").Parse(args);

int failures = 0;
void Report(string name, bool ok, string detail)
{
    Console.WriteLine($"{(ok ? "PASS" : "FAIL")}  {name}: {detail}");
    if (!ok) failures++;
}

Console.WriteLine($"libtorch {version}, intra-op threads {get_num_threads()}");
bool available = cuda.is_available();
Report("cuda visible", available, $"is_available={available}, device_count={cuda.device_count()}");
if (!available) return 1;

using (NewDisposeScope())
{
    manual_seed(0);
    var a = randn([512, 256], ScalarType.Float64);
    var b = randn([256, 384], ScalarType.Float64);
    var reference = a.mm(b);

    var f32 = a.@float().cuda().mm(b.@float().cuda()).cpu().@double();
    double relF32 = ((f32 - reference).norm() / reference.norm()).item<double>();
    Report("float32 matmul", relF32 < 1e-3, $"relative error vs CPU float64 {relF32:E2} (TF32 allowed)");

    var bf16 = a.bfloat16().cuda().mm(b.bfloat16().cuda()).cpu().@double();
    double relBf16 = ((bf16 - reference).norm() / reference.norm()).item<double>();
    Report("bfloat16 matmul", relBf16 < 3e-2, $"relative error vs CPU float64 {relBf16:E2}");

    var wCpu = randn([64, 32], requires_grad: true);
    var x = randn([16, 64]);
    (x.mm(wCpu).tanh().square().sum()).backward();
    var wGpu = wCpu.detach().cuda().requires_grad_();
    (x.cuda().mm(wGpu).tanh().square().sum()).backward();
    var gCpu = wCpu.grad!;
    var gGpu = wGpu.grad!.cpu();
    double relGrad = ((gGpu - gCpu).norm() / gCpu.norm()).item<double>();
    Report("autograd on GPU", relGrad < 1e-3, $"relative gradient difference vs CPU {relGrad:E2}");

    cuda.synchronize();
    long allocated = cuda.memory_allocated(), peak = cuda.max_memory_allocated(), reserved = cuda.memory_reserved();
    Report("memory statistics", allocated > 0 && peak >= allocated && reserved >= allocated,
        $"allocated {allocated} B, peak {peak} B, reserved {reserved} B");
}
MixedPrecisionCheck.Run(Report);
Console.WriteLine(failures == 0 ? "GPU check passed" : $"GPU check failed: {failures} check(s)");
return failures == 0 ? 0 : 1;
