using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Tests;

namespace LowRankBias.Tests.Lora;

/// <summary>One residual block of a user's own model: x + fc2(tanh(fc1(x))).</summary>
internal sealed class Block : Module
{
    public Module fc1, fc2;

    public Block(long width, long hidden, int seed)
    {
        fc1 = LoraTestKit.Linear64(width, hidden, seed);
        fc2 = LoraTestKit.Linear64(hidden, width, seed + 2);
    }

    public override Tensor forward(Tensor input)
    {
        using Tensor h = fc1.call(input);
        using Tensor a = h.tanh();
        using Tensor d = fc2.call(a);
        return input + d;
    }
}

/// <summary>
/// A small token model written as users write theirs (children in fields, blocks in a ModuleList), float64:
/// embedding → residual blocks → mean over positions → head. Paths: embed, blocks.0.fc1, blocks.0.fc2,
/// blocks.1.fc1, blocks.1.fc2, head.
/// </summary>
internal sealed class TokenNet : Module
{
    public const long Vocabulary = 11, Width = 6, Hidden = 10, Classes = 3;

    public Module embed;
    public ModuleList blocks;
    public Module head;

    public TokenNet()
    {
        var table = new Embedding(Vocabulary, Width, dtype: LoraTestKit.F64);
        using (NewDisposeScope()) LoraTestKit.Fill(table.weight, TestData.Randn(100, Vocabulary, Width));
        embed = table;
        blocks = new ModuleList(new Block(Width, Hidden, 110), new Block(Width, Hidden, 120));
        head = LoraTestKit.Linear64(Width, Classes, 130);
    }

    public override Tensor forward(Tensor input)
    {
        Tensor x = embed.call(input);
        foreach (Module block in blocks)
        {
            using Tensor previous = x;
            x = block.call(previous);
        }
        using (x)
        using (Tensor pooled = x.mean(1))
            return head.call(pooled);
    }

    /// <summary>Seeded token indices [batch, length].</summary>
    public static Tensor Tokens(int seed, long batch, long length)
    {
        var rng = new Random(seed);
        return tensor(Enumerable.Range(0, (int)(batch * length)).Select(_ => (long)rng.Next((int)Vocabulary)).ToArray(), [batch, length]);
    }
}

/// <summary>A small float64 image classifier: conv (3×3, padding 1) → relu → flatten → fc → tanh → head.</summary>
internal sealed class ConvNet : Module
{
    public const long Channels = 2, Filters = 4, Side = 5, Hidden = 7, Classes = 3;

    public Module conv;
    public Module fc;
    public Module head;

    public ConvNet()
    {
        var c = new Conv2d(Channels, Filters, 3, padding: 1, dtype: LoraTestKit.F64);
        using (NewDisposeScope())
        {
            LoraTestKit.Fill(c.weight, TestData.Randn(200, Filters, Channels, 3, 3));
            LoraTestKit.Fill(c.bias!, TestData.Randn(201, Filters));
        }
        conv = c;
        fc = LoraTestKit.Linear64(Filters * Side * Side, Hidden, 210);
        head = LoraTestKit.Linear64(Hidden, Classes, 220);
    }

    public override Tensor forward(Tensor input)
    {
        using Tensor c = conv.call(input);
        using Tensor r = c.relu();
        using Tensor f = r.flatten(1);
        using Tensor h = fc.call(f);
        using Tensor t = h.tanh();
        return head.call(t);
    }
}
