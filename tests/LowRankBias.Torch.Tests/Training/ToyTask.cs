using LowRankBias.Torch.Data;
using LowRankBias.Torch.Modules;
using static LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests.Training;

/// <summary>A small learnable classification task: 8 Gaussian features, 3 classes given by a fixed random linear map.</summary>
internal sealed class ToyTask : IDisposable
{
    public const int Features = 8, Classes = 3;

    private ToyTask(TensorDataset train, TensorDataset test) => (Train, Test) = (train, test);

    public TensorDataset Train { get; }
    public TensorDataset Test { get; }

    public static ToyTask Create(long trainSize = 96, long testSize = 40, ulong seed = 11)
    {
        using var scope = NewDisposeScope();
        manual_seed(seed);
        Tensor w = randn([Features, Classes]);
        Tensor x = randn([trainSize + testSize, Features]);
        Tensor y = x.mm(w).argmax(1);
        return new ToyTask(new TensorDataset(x.narrow(0, 0, trainSize), y.narrow(0, 0, trainSize)),
            new TensorDataset(x.narrow(0, trainSize, testSize), y.narrow(0, trainSize, testSize)));
    }

    public void Dispose()
    {
        Train.Dispose();
        Test.Dispose();
    }
}

/// <summary>Linear → ReLU → dropout → Linear: dropout makes training depend on the global generator.</summary>
internal sealed class DropoutMlp : Module
{
    private readonly Linear hidden, output;
    private readonly double p;

    public DropoutMlp(double p = 0.3, long width = 16)
    {
        hidden = new Linear(ToyTask.Features, width);
        output = new Linear(width, ToyTask.Classes);
        this.p = p;
    }

    public override Tensor forward(Tensor x) => output.call(dropout(hidden.call(x).relu(), p, training));
}
