using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests.Modules;

namespace LowRankBias.Torch.Tests.Models;

/// <summary>A forward and backward pass of every model leaves no tensor alive beyond the caller's scope: each
/// forward disposes its temporaries or hands them to that scope.</summary>
[Collection(SerialCollection.Name)]
public class ModelLeakTests
{
    public static TheoryData<string> Names => ["vit", "mixer", "gpt", "cnn", "mlp", "modular", "resnet", "resnet-bottleneck", "resnet-frozen-bn"];

    private static (Module model, Func<Tensor> input) Build(string name) => name switch
    {
        "vit" => (new VisionTransformer(new() { image_size = 8, patch_size = 4, in_channels = 1, num_classes = 3, num_layers = 1, num_heads = 2, hidden_dim = 4, mlp_dim = 8 }),
            () => torch.randn([2, 1, 8, 8])),
        "mixer" => (new MlpMixer(new() { image_size = 4, patch_size = 2, in_channels = 1, num_classes = 3, num_blocks = 1, hidden_dim = 4, tokens_mlp_dim = 2, channels_mlp_dim = 8 }),
            () => torch.randn([2, 1, 4, 4])),
        "gpt" => (new GPT(new() { vocab_size = 5, block_size = 4, n_layer = 1, n_head = 2, n_embd = 4, mlp_dim = 8 }),
            () => torch.randint(0, 5, [2, 4])),
        "cnn" => (new ConvNet(new() { in_channels = 1, channels = [2, 2], hidden_features = 3 }), () => torch.randn([2, 1, 6, 6])),
        "mlp" => (new MLP(new MLP.Config { widths = [3, 4, 2] }), () => torch.randn([2, 3])),
        "modular" => (new ModularAdditionTransformer(new() { p = 5, d_model = 4, num_heads = 2, d_mlp = 8 }), () => torch.randint(0, 6, [2, 3])),
        "resnet" => (new ResNet(new() { width = 2, layers = [1, 1, 1, 1], in_channels = 1, num_classes = 3 }), () => torch.randn([2, 1, 8, 8])),
        "resnet-bottleneck" => (new ResNet(new() { width = 2, layers = [1, 1, 1, 1], bottleneck = true, num_classes = 3 }), () => torch.randn([2, 3, 8, 8])),
        "resnet-frozen-bn" => (new ResNet(new() { width = 2, layers = [1, 1, 1, 1], num_classes = 3 }).freeze_batchnorm(), () => torch.randn([2, 3, 8, 8])),
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardAndBackwardLeaveNothingBehind(string name)
    {
        (Module model, Func<Tensor> input) = Build(name);
        using (model)
        {
            long before = TestData.SettledLiveCount();
            using (NewDisposeScope())
            {
                Tensor x = input();
                Tensor y = model.call(x);
                y.square().mean().backward();
            }
            model.zero_grad();
            Assert.Equal(before, TestData.SettledLiveCount());
        }
    }
}
