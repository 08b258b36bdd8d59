using LowRankBias.Lora;
using LowRankBias.Torch;

namespace LowRankBias.Lte;

public sealed partial class Lte
{
    /// <summary>
    /// Redraws every head's A (and the directions of vector-scalar offsets) from a generator of its own, seeded from
    /// <paramref name="seed"/>, the layer and the head's index, and zeroes B; the global generator is not touched. Head n of a layer then starts the same
    /// wherever it lives — in this model, or on one rank of a <see cref="DistributedLte"/> run with the same seed, even
    /// when ranks are threads of one process — which makes a distributed run reproduce the single-device one. Call it
    /// before training.
    /// </summary>
    public void ReseedHeads(ulong seed) => ReseedHeads(seed, firstHead: 0);

    internal void ReseedHeads(ulong seed, int firstHead)
    {
        if (_evaluating > 0) throw new InvalidOperationException("cannot reseed heads inside Evaluating()");
        string scheme = options.LoraConfig().init_lora_weights;
        using var noGrad = torch.no_grad();
        int layer = 0;
        foreach ((_, LoraLayer lora) in lora_layers())
        {
            lora.lora_B[LteSite.Adapter].zero_();
            (Tensor a, Tensor b) = lora.HeadFactors(LteSite.Adapter);
            using Tensor ownedA = a, ownedB = b;
            for (int n = 0; n < heads; n++)
            {
                using var generator = new Generator(HeadSeed(seed, layer, firstHead + n));
                using Tensor head = a.select(0, n);
                DrawA(scheme, head, generator);
            }
            layer++;
        }
        foreach (HeadOffsets offsets in Sites().SelectMany(s => s.Offsets).Select(o => o.offsets))
        {
            if (offsets.direction is not { } directions) continue;
            for (int n = 0; n < heads; n++)
            {
                using var generator = new Generator(HeadSeed(seed, layer, firstHead + n));
                using Tensor direction = directions.select(0, n);
                torch.nn.init.normal_(direction, 0, 1, generator);
                using Tensor norm = direction.norm();
                direction.div_(norm);
            }
            layer++;
        }
    }

    /// <summary>Head <paramref name="head"/> alone restarts (a head reset): in every layer a new A from the global
    /// generator and B ← 0. Its offsets and optimizer state are not touched.</summary>
    internal void RedrawHead(int head)
    {
        string scheme = options.LoraConfig().init_lora_weights;
        using var noGrad = torch.no_grad();
        foreach ((_, LoraLayer lora) in lora_layers())
        {
            (Tensor a, Tensor b) = lora.HeadFactors(LteSite.Adapter);
            using Tensor ownedA = a, ownedB = b, headA = a.select(0, head), headB = b.select(0, head);
            headB.zero_();
            DrawA(scheme, headA, generator: null);
        }
    }

    private void DrawA(string scheme, Tensor head, Generator? generator)
    {
        LoraInit.Draw(scheme, head, generator);
        if (options.AInit == LteInit.ScaledOrthogonal) head.mul_(Math.Sqrt((double)head.size(1) / head.size(0)));
    }

    // SplitMix64 of the three indices: distinct, well-spread seeds for every (layer, head).
    private static ulong HeadSeed(ulong seed, int layer, int head)
    {
        ulong z = seed + 0x9E3779B97F4A7C15UL * (1 + ((ulong)(uint)layer << 32 | (uint)head));
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
