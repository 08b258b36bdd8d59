using static LowRankBias.Torch.Tests.TestData;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Torch.Tests;

/// <summary>Bad calls raise managed exceptions that say what is wrong (libtorch's own message where libtorch detects it).</summary>
public class ErrorTests
{
    private static void ThrowsTorch(Action call, params string[] fragments)
    {
        var error = Assert.Throws<TorchException>(call);
        foreach (string fragment in fragments) Assert.Contains(fragment, error.Message);
    }

    // Creation on an unusable CUDA device said "Could not run 'aten::empty.memory_format' with arguments from the
    // 'CUDA' backend…" (issue 30). Without a GPU the plain device is unusable; with one, the index past the last.
    [Fact]
    public void CreatingATensorOnAnUnavailableDeviceNamesTheDeviceAndTheFix()
    {
        int visible = torch.cuda.is_available() ? torch.cuda.device_count() : 0;
        Device device = visible == 0 ? Device.CUDA() : Device.CUDA(visible);
        foreach (Action create in new Action[]
        {
            () => randn([2, 2], device: device), () => zeros([2, 2], device: device), () => tensor(new[] { 1f }, device: device),
            () => Torch.IO.SafeTensors.load(Torch.IO.SafeTensors.save(new Dictionary<string, Tensor> { ["w"] = ones([2]) }), device),
        })
        {
            var error = Assert.Throws<ArgumentException>(create);
            Assert.Contains($"device '{device}' is not available", error.Message);
            Assert.Contains(visible == 0 ? "torch.cuda.is_available() is false" : $"{visible} CUDA device", error.Message);
            Assert.Equal("device", error.ParamName);
        }
    }

    [Theory]
    [InlineData(12L)]
    [InlineData(-1L)]
    public void EmbeddingIndexOutOfRangeNamesTheIndexAndTheTableSize(long index)
    {
        using DisposeScope scope = NewDisposeScope();
        var table = new LowRankBias.Torch.Modules.Embedding(10, 4);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => { table.call(tensor(new long[] { 3, index, 5 })); });
        Assert.Contains($"index {index} is out of range for a table of 10 rows", error.Message);
        Assert.Equal(table.call(tensor(new long[] { 9 })).ToArray<float>(), table.weight[9].ToArray<float>());
    }

    [Fact]
    public void MatrixProductShapeMismatchNamesBothShapes()
    {
        using DisposeScope scope = NewDisposeScope();
        ThrowsTorch(() => mm(zeros([2, 3]), zeros([4, 5])), "2x3", "4x5");
        ThrowsTorch(() => zeros([2, 3]).matmul(zeros([4, 5])), "2x3", "4x5");
    }

    [Fact]
    public void BroadcastMismatchOnTheTypedPathNamesTheSizes()
    {
        using DisposeScope scope = NewDisposeScope();
        ThrowsTorch(() => _ = zeros([2, 3]) + zeros([4]), "(3)", "(4)");
    }

    [Fact]
    public void WrongArgumentTypeNamesOperatorAndArgument()
    {
        using DisposeScope scope = NewDisposeScope();
        var add = new Op("aten::add", "Tensor");
        var error = Assert.Throws<ArgumentException>(() => add.Call(zeros([2]), "one"));
        Assert.Contains("aten::add", error.Message);
        Assert.Contains("'other'", error.Message);
        Assert.Equal("other", error.ParamName);
    }

    [Fact]
    public void TooManyArgumentsAreRejected()
    {
        using DisposeScope scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => new Op("aten::relu").Call(zeros([2]), 1));
        Assert.Contains("takes 1 arguments, 2 were given", error.Message);
    }

    [Fact]
    public void UnknownOperatorIsReportedByName()
    {
        ThrowsTorch(() => new Op("aten::no_such_op").Call(), "aten::no_such_op", "not registered");
    }

    [Fact]
    public void DisposedTensorCannotBeUsedAgain()
    {
        Tensor t = ones([2]);
        t.Dispose();
        Assert.Throws<ObjectDisposedException>(() => t.exp());
        Assert.Throws<ObjectDisposedException>(() => t.shape);
        using Tensor other = ones([2]);
        Assert.Throws<ObjectDisposedException>(() => cat([other, t]));
    }

    [Fact]
    public void WrongHostTypeInToArrayOrItemNamesBothTypes()
    {
        using DisposeScope scope = NewDisposeScope();
        var error = Assert.Throws<ArgumentException>(() => zeros([3], ScalarType.Float64).ToArray<float>());
        Assert.Contains("Float64", error.Message);
        Assert.Contains("Single", error.Message);
        Assert.Throws<ArgumentException>(() => zeros([1], ScalarType.Int64).item<int>());
    }

    [Fact]
    public void ItemNeedsExactlyOneElement()
    {
        using DisposeScope scope = NewDisposeScope();
        var error = Assert.Throws<InvalidOperationException>(() => zeros([2, 3]).item<float>());
        Assert.Contains("6", error.Message);
    }

    [Fact]
    public void BadDeviceStringsAreRejected()
    {
        Assert.Throws<ArgumentException>(() => Device.Parse("tpu"));
        Assert.Throws<ArgumentException>(() => Device.Parse("cuda:x"));
        Assert.Throws<ArgumentException>(() => zeros([2], device: "gpu:0"));
    }

    [Fact]
    public void NegativeShapesAreRejected()
    {
        ThrowsTorch(() => zeros([2, -1]), "negative dimension");
        var error = Assert.Throws<ArgumentException>(() => tensor(new float[2], [-1, -2]));
        Assert.Contains("negative dimension", error.Message);
    }

    [Fact]
    public void DataLengthMustMatchTheShape()
    {
        var error = Assert.Throws<ArgumentException>(() => tensor(new float[5], [2, 3]));
        Assert.Contains("6 elements but 5 values", error.Message);
    }

    [Fact]
    public void CatOfMismatchedShapesNamesTheSizes()
    {
        using DisposeScope scope = NewDisposeScope();
        ThrowsTorch(() => cat([zeros([2, 3]), zeros([2, 4])], 0), "Sizes of tensors must match", "Expected size 3 but got size 4");
    }

    [Fact]
    public void IndicesOutOfRangeAreRejected()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor t = zeros([3, 2]);
        ThrowsTorch(() => t.select(0, 5), "out of range");
        ThrowsTorch(() => t.index_select(0, tensor(new long[] { 0, 7 })), "out of range");
        Assert.Throws<ArgumentOutOfRangeException>(() => F.embedding(tensor(new long[] { 3 }), t));
        Assert.Throws<ArgumentOutOfRangeException>(() => t.size(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => F.embedding(tensor(new long[] { 0 }), t, padding_idx: 3));
    }

    [Fact]
    public void Conv2dWithWrongChannelCountSaysWhichChannelsItExpected()
    {
        using DisposeScope scope = NewDisposeScope();
        ThrowsTorch(() => F.conv2d(zeros([1, 2, 5, 5]), zeros([4, 3, 3, 3])), "to have 3 channels, but got 2 channels");
        var error = Assert.Throws<ArgumentException>(() => F.conv2d(zeros([1, 3, 5, 5]), zeros([4, 3, 3, 3]), stride: [1, 1, 1]));
        Assert.Equal("stride", error.ParamName);
    }

    [Fact]
    public void CrossEntropyRejectsOutOfRangeClassesAndUnknownReductions()
    {
        using DisposeScope scope = NewDisposeScope();
        ThrowsTorch(() => F.cross_entropy(zeros([2, 3]), tensor(new long[] { 0, 5 })), "Target 5 is out of bounds");
        var error = Assert.Throws<ArgumentException>(() => F.cross_entropy(zeros([2, 3]), tensor(new long[] { 0, 1 }), reduction: "avg"));
        Assert.Equal("reduction", error.ParamName);
    }

    [Fact]
    public void ReshapeToAnIncompatibleSizeNamesBoth()
    {
        using DisposeScope scope = NewDisposeScope();
        ThrowsTorch(() => zeros([2, 3]).reshape(4), "shape '[4]' is invalid for input of size 6");
    }

    [Fact]
    public void BackwardOfANonScalarNeedsAGradient()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = ones([3], requires_grad: true);
        ThrowsTorch(() => (x * 2).backward(), "grad can be implicitly created only for scalar outputs");
    }

    [Fact]
    public void SecondBackwardWithoutRetainGraphFails()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor x = ones([3], requires_grad: true);
        Tensor y = (x * x).sum();
        y.backward();
        ThrowsTorch(() => y.backward(), "backward through the graph a second time");
    }

    [Fact]
    public void IntegerTensorsCannotRequireGradients()
    {
        using DisposeScope scope = NewDisposeScope();
        ThrowsTorch(() => zeros([2], ScalarType.Int64).requires_grad_(), "floating point");
    }

    [Fact]
    public void LinalgRejectsInputsOfTheWrongShape()
    {
        using DisposeScope scope = NewDisposeScope();
        ThrowsTorch(() => linalg.svd(zeros([3], ScalarType.Float64)), "at least 2 dimensions");
        ThrowsTorch(() => linalg.eigh(zeros([2, 3], ScalarType.Float64)), "square");
        ThrowsTorch(() => linalg.det(zeros([2, 3], ScalarType.Float64)), "square");
    }

    [Fact]
    public void ProbabilityArgumentsOutsideTheUnitIntervalAreRejected()
    {
        using DisposeScope scope = NewDisposeScope();
        Assert.Throws<ArgumentOutOfRangeException>(() => F.dropout(ones([2]), 1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => F.scaled_dot_product_attention(ones([2, 2]), ones([2, 2]), ones([2, 2]), dropout_p: -0.1));
        ThrowsTorch(() => multinomial(tensor(new double[] { 0.5, -1 }), 1), "element < 0");
    }

    [Fact]
    public void AttentionRejectsAMaskTogetherWithIsCausal()
    {
        using DisposeScope scope = NewDisposeScope();
        Tensor q = Randn(1, 2, 2);
        var error = Assert.Throws<ArgumentException>(() => F.scaled_dot_product_attention(q, q, q, ones([2, 2], ScalarType.Bool), is_causal: true));
        Assert.Equal("attn_mask", error.ParamName);
    }

    [Fact]
    public void OneHotRejectsClassesBeyondNumClasses()
    {
        using DisposeScope scope = NewDisposeScope();
        ThrowsTorch(() => F.one_hot(tensor(new long[] { 0, 4 }), 3), "smaller than num_classes");
    }
}
