// Mixed precision on CUDA: one small regression MLP trained from the same start in float32 and in each mixed-precision
// mode; every run's loss curve must stay close to the float32 one and fall as far.
using LowRankBias.Torch.Amp;
using static LowRankBias.Torch.torch.nn.functional;

internal static class MixedPrecisionCheck
{
    private const int Steps = 60;
    private const double Tolerance = 0.02; // of the initial loss

    private sealed record Mode(string Name, ScalarType Parameters, ScalarType? Autocast, bool Scaler, bool MasterWeights);

    public static void Run(Action<string, bool, string> report)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        Tensor x = randn([256, 32]).cuda();
        Tensor target = x.mm(randn([32, 16]).cuda()).tanh().mm(randn([16, 4]).cuda());

        double[] reference = Train(new Mode("float32", ScalarType.Float32, null, false, false), x, target, out _);
        report("mixed precision: float32 baseline", reference[^1] < 0.5 * reference[0],
            $"loss {reference[0]:G4} -> {reference[^1]:G4} in {Steps} AdamW steps");

        Mode[] modes =
        [
            new("bfloat16 autocast", ScalarType.Float32, ScalarType.BFloat16, false, false),
            new("float16 autocast + GradScaler", ScalarType.Float32, ScalarType.Float16, true, false),
            new("bfloat16 model + float32 master weights", ScalarType.BFloat16, null, false, true),
            new("float16 model + master weights + GradScaler", ScalarType.Float16, null, true, true),
        ];
        foreach (Mode mode in modes)
        {
            double[] losses = Train(mode, x, target, out ScalarType outputDtype);
            double deviation = losses.Zip(reference, (a, b) => Math.Abs(a - b)).Max() / reference[0];
            ScalarType expectedOutput = mode.Autocast ?? mode.Parameters;
            bool ok = outputDtype == expectedOutput && deviation < Tolerance && losses[^1] < 0.5 * losses[0];
            report($"mixed precision: {mode.Name}", ok,
                $"output {outputDtype}, loss {losses[0]:G4} -> {losses[^1]:G4}, max deviation from float32 {deviation:P2} of the initial loss");
        }
    }

    // The loss before each step; outputDtype is the model output's dtype in the last step.
    private static double[] Train(Mode mode, Tensor x, Tensor target, out ScalarType outputDtype)
    {
        using var scope = NewDisposeScope();
        manual_seed(2); // the same initial weights in every mode
        using var model = new Sequential(new Linear(32, 64), new ReLU(), new Linear(64, 4));
        model.to(Device.CUDA(0));
        model.to(mode.Parameters);
        using var optimizer = new AdamW(model.parameters(), lr: 1e-2, weight_decay: 0) { MasterWeights = mode.MasterWeights };
        using var scaler = new GradScaler(enabled: mode.Scaler);
        Tensor input = x.to(mode.Parameters);
        var losses = new double[Steps];
        outputDtype = ScalarType.Float32;
        for (int step = 0; step < Steps; step++)
        {
            using var stepScope = NewDisposeScope();
            optimizer.zero_grad();
            Tensor loss;
            using (mode.Autocast is { } dtype ? autocast(DeviceType.CUDA, dtype) : null)
            {
                Tensor output = model.call(input);
                outputDtype = output.dtype;
                loss = mse_loss(output.@float(), target);
            }
            losses[step] = loss.item<float>();
            scaler.scale(loss).backward();
            scaler.unscale_(optimizer);
            nn.utils.clip_grad_norm_(optimizer.master_params(), 10);
            scaler.step(optimizer);
            scaler.update();
        }
        return losses;
    }
}
