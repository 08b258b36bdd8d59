using LowRankBias.Lora;
using LowRankBias.Torch.Tests;

namespace LowRankBias.Tests.Lora;

[Collection(SerialCollection.Name)]
public sealed class LoraLeakTests
{
    [Theory]
    [InlineData(1, HeadInput.Shared)]
    [InlineData(3, HeadInput.Shared)]
    [InlineData(3, HeadInput.Split)]
    public void ForwardBackwardAndMergingFreeEveryTemporary(int heads, HeadInput mode)
    {
        using var lora = new LoraModel(new TokenNet(), new LoraConfig
        {
            r = 2, lora_dropout = heads == 1 ? 0.25 : 0, num_heads = heads, head_input = mode,
            target_modules = heads == 1 ? new[] { "embed", "fc1", "fc2" } : new[] { "fc1", "fc2" },
        });
        using Tensor tokens = TokenNet.Tokens(1, 6, 4);
        void Step()
        {
            using Tensor y = lora.call(tokens);
            using Tensor squared = y.square();
            using Tensor loss = squared.sum();
            loss.backward();
            lora.zero_grad();
            lora.merge();
            lora.unmerge();
        }

        Step();                                                              // first use may create lasting state
        long before = LowRankBias.Torch.Tests.TestData.SettledLiveCount();
        Step();
        Assert.Equal(before, Tensor.LiveCount);
    }

    [Fact]
    public void DataAwareInitsFreeEveryTemporary()
    {
        void Init()
        {
            foreach (string init in new[] { LoraInit.Pissa, "pissa_niter_2", LoraInit.Olora })
                using (new LoraLinear(LoraTestKit.Linear64(12, 8, 3), new LoraConfig { r = 2, init_lora_weights = init })) { }
            using (new LoraModel(new TokenNet(), new LoraConfig { r = 2, init_lora_weights = LoraInit.Pissa, target_modules = new[] { "fc1" } })) { }
            using var net = new TokenNet();
            using var quantized = new LoraModel(net, new LoraConfig
            {
                r = 2, init_lora_weights = LoraInit.LoftQ, target_modules = new[] { "fc1" },
                base_quantization = new LowRankBias.Torch.Quantization.QuantizationConfig { blocksize = 2 },
            });
        }

        Init();
        long before = LowRankBias.Torch.Tests.TestData.SettledLiveCount();
        Init();
        Assert.Equal(before, Tensor.LiveCount);
    }
}
