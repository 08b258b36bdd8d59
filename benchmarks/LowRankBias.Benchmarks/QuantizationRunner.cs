using System.Diagnostics;
using System.Globalization;
using LowRankBias.Lora;
using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Quantization;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Benchmarks;

/// <summary>
/// `--quantization [steps] [repeats]`: what storing base weights quantized costs and saves. (1) Bytes of a ViT-S's
/// linear weights (and of the whole model) in float32, bf16, int8, NF4 and NF4 with double quantization, and the
/// round-trip error of each format against float32 — on the initial weights (uniform, PyTorch's init) and on Gaussian
/// weights of the same shapes (what NF4 is built for). (2) A LoRA (r 8, every linear layer but the classifier)
/// training step of ViT-Tiny on a batch of 128, base in each format, and the dequantization of all its adapted layers
/// alone, timed in interleaved rounds: the fastest round's CPU ms of this process (user + system, all threads) per
/// step — on a shared machine the least disturbed — and its median, each with its ratio to the float32 step.
/// Prints Markdown tables.
/// </summary>
public static class QuantizationRunner
{
    private static readonly (string name, QuantizationConfig? config)[] s_formats =
    [
        ("float32", null),
        ("bf16", new QuantizationConfig { quant_type = QuantizationConfig.BFloat16 }),
        ("int8", new QuantizationConfig { quant_type = QuantizationConfig.Int8 }),
        ("nf4", new QuantizationConfig()),
        ("nf4 + double quant", new QuantizationConfig { use_double_quant = true }),
    ];

    public static void Run(int steps, int repeats)
    {
        Memory();
        StepTime(steps, repeats);
    }

    private static void Memory()
    {
        manual_seed(0);
        using Module vit = TrainingStepRunner.Build("vit-s");
        Linear[] linears = vit.modules().OfType<Linear>().ToArray();
        long linearBytes = linears.Sum(l => l.weight.numel() * 4);
        long otherBytes = vit.parameters().Sum(p => p.numel() * 4) - linearBytes;
        Console.WriteLine($"ViT-S (patch 4, 28×28): {linears.Length} linear layers, {linearBytes / 4:N0} linear weights, {otherBytes / 4:N0} other parameters");
        Console.WriteLine("| format | linear weights (MiB) | ×less | whole model (MiB) | ×less | rel. error, init weights | rel. error, Gaussian |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|");
        foreach ((string name, QuantizationConfig? config) in s_formats)
        {
            using var scope = NewDisposeScope();
            long bytes = 0;
            double errorInit = 0, errorGauss = 0, normInit = 0, normGauss = 0;
            foreach (Linear linear in linears)
            {
                if (config is null) { bytes += linear.weight.numel() * 4; continue; }
                using var quantized = new QuantizedLinear(linear, config);
                bytes += quantized.weight_bytes;
                (errorInit, normInit) = Accumulate(quantized.dequantize(), linear.weight, errorInit, normInit);
                using var gaussian = new Linear(linear.in_features, linear.out_features, bias: false);
                using (no_grad()) gaussian.weight.normal_(0, 0.02);
                using var quantizedGaussian = new QuantizedLinear(gaussian, config);
                (errorGauss, normGauss) = Accumulate(quantizedGaussian.dequantize(), gaussian.weight, errorGauss, normGauss);
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {name} | {bytes / 1048576.0:F2} | {(double)linearBytes / bytes:F2} | {(bytes + otherBytes) / 1048576.0:F2} | {(double)(linearBytes + otherBytes) / (bytes + otherBytes):F2} | " +
                $"{(config is null ? "0" : Math.Sqrt(errorInit / normInit).ToString("G3", CultureInfo.InvariantCulture))} | " +
                $"{(config is null ? "0" : Math.Sqrt(errorGauss / normGauss).ToString("G3", CultureInfo.InvariantCulture))} |"));
        }
    }

    private static (double error, double norm) Accumulate(Tensor restored, Tensor original, double error, double norm)
    {
        using var scope = NewDisposeScope();
        Tensor w = original.to(ScalarType.Float64);
        return (error + (restored.to(ScalarType.Float64) - w).square().sum().item<double>(), norm + w.square().sum().item<double>());
    }

    private static void StepTime(int steps, int repeats)
    {
        const int batch = 128;
        var sessions = s_formats.Select(f => (f.name, step: LoraStep(f.config, batch))).ToArray();
        try
        {
            foreach ((_, (Action run, _, _)) in sessions)
                for (int i = 0; i < 3; i++) run();
            var cpu = sessions.Select(_ => (step: new List<double>(), dequantize: new List<double>())).ToArray();
            using var process = Process.GetCurrentProcess();
            double CpuMs(Action action)
            {
                process.Refresh();
                TimeSpan start = process.TotalProcessorTime;
                for (int i = 0; i < steps; i++) action();
                process.Refresh();
                return (process.TotalProcessorTime - start).TotalMilliseconds / steps;
            }
            for (int r = 0; r < repeats; r++)
                for (int s = 0; s < sessions.Length; s++)
                {
                    cpu[s].step.Add(CpuMs(sessions[s].step.run));
                    cpu[s].dequantize.Add(CpuMs(sessions[s].step.dequantize));
                }
            double baseline = cpu[0].step.Min();
            Console.WriteLine($"\nLoRA r 8 training step, ViT-Tiny, batch {batch}, {get_num_threads()} threads, CPU ms per step, {repeats} interleaved rounds of {steps} steps:");
            Console.WriteLine("| base | step, fastest round | × float32 | step, median | dequantizing every base once, fastest | as a share of the float32 step |");
            Console.WriteLine("|---|---:|---:|---:|---:|---:|");
            for (int s = 0; s < sessions.Length; s++)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {sessions[s].name} | {cpu[s].step.Min():F1} | {cpu[s].step.Min() / baseline:F3} | {Median(cpu[s].step):F1} | {cpu[s].dequantize.Min():F2} | {100 * cpu[s].dequantize.Min() / baseline:F1} % |"));
        }
        finally
        {
            foreach ((_, (_, _, IDisposable owned)) in sessions) owned.Dispose();
        }
    }

    private static (Action run, Action dequantize, IDisposable owned) LoraStep(QuantizationConfig? config, int batch)
    {
        manual_seed(0);
        var lora = new LoraModel(TrainingStepRunner.Build("vit-tiny"), new LoraConfig
        {
            r = 8, lora_alpha = 16, target_modules = ModuleSelector.AllLinear, exclude_modules = "head", base_quantization = config,
        });
        var optimizer = new AdamW(lora.parameters().Where(p => p.requires_grad));
        Tensor images = randn([batch, 1, 28, 28]).DetachFromDisposeScope(), labels = randint(0, 10, [batch]).DetachFromDisposeScope();
        return (() =>
        {
            using DisposeScope scope = NewDisposeScope();
            nn.functional.cross_entropy(lora.call(images), labels).backward();
            optimizer.step();
            optimizer.zero_grad();
        }, () =>
        {
            using DisposeScope scope = NewDisposeScope();
            foreach ((_, LoraLayer layer) in lora.lora_layers()) layer.quantized_base?.dequantize();
        }, new Owned(lora, optimizer, images, labels));
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private sealed class Owned(params IDisposable[] owned) : IDisposable
    {
        public void Dispose()
        {
            foreach (IDisposable o in owned) o.Dispose();
        }
    }
}
