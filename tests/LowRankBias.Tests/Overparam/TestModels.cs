using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Tests.Overparam;

/// <summary>A small CNN in the thesis's style (convolutions with max-pooling and ReLU, then two fully connected
/// layers), with a strided, padded and a dilated convolution: 3×8×8 inputs, 10 outputs.</summary>
internal sealed class SmallCnn : Module
{
    public Module conv1, conv2, conv3, fc1, fc2;

    public SmallCnn(ScalarType dtype)
    {
        conv1 = new Conv2d(3, 8, 3, padding: 1, dtype: dtype);
        conv2 = new Conv2d(8, 16, 3, stride: 2, padding: 1, dtype: dtype);
        conv3 = new Conv2d(16, 16, 3, padding: 2, dilation: 2, dtype: dtype);
        fc1 = new Linear(16 * 2 * 2, 32, dtype: dtype);
        fc2 = new Linear(32, 10, dtype: dtype);
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor h = F.max_pool2d(conv1.call(x).relu(), [2]);
        h = conv2.call(h).relu();
        h = conv3.call(h).relu();
        h = fc1.call(h.flatten(1)).relu();
        return fc2.call(h).MoveToOuterDisposeScope();
    }
}

/// <summary>A model whose head field is declared as <see cref="Linear"/>, so no expansion fits into it.</summary>
internal sealed class RigidHead : Module
{
    public Module body = new Linear(4, 4, dtype: ScalarType.Float64);
    public Linear head = new(4, 2, dtype: ScalarType.Float64);

    public override Tensor forward(Tensor x)
    {
        using Tensor h = body.call(x);
        return head.call(h);
    }
}

/// <summary>An embedding followed by a linear layer.</summary>
internal sealed class EmbeddingModel : Module
{
    public Module emb = new Embedding(10, 4);
    public Module fc = new Linear(4, 4);

    public override Tensor forward(Tensor x)
    {
        using Tensor h = emb.call(x);
        return fc.call(h);
    }
}
