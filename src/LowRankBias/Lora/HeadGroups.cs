using LowRankBias.Torch;
using LowRankBias.Torch.Modules;
using F = LowRankBias.Torch.torch.nn.functional;

namespace LowRankBias.Lora;

/// <summary>
/// Batched per-head computations on a batch cut into N consecutive groups, group n for head n (split head input):
/// convolutions run as one grouped convolution with the groups side by side as channels, lookups in one stacked table.
/// </summary>
internal static class HeadGroups
{
    /// <summary>Throws unless the batch of <paramref name="input"/> divides into <paramref name="heads"/> equal groups.</summary>
    public static void Check(Tensor input, int heads, string what)
    {
        long batch = input.dim() == 0 ? 0 : input.size(0);
        if (input.dim() == 0 || batch % heads != 0)
            throw new ArgumentException($"{what}: a batch of {batch} rows cannot be divided into {heads} equal groups, one per head", nameof(input));
    }

    /// <summary>Images [N·b, C, H, W] → [b, N·C, H, W]: group n becomes channel block n.</summary>
    public static Tensor ToChannels(Tensor images, int heads)
    {
        using Tensor grouped = images.reshape(heads, -1, images.size(1), images.size(2), images.size(3));
        using Tensor swapped = grouped.transpose(0, 1);
        return swapped.reshape(-1, heads * images.size(1), images.size(2), images.size(3));
    }

    /// <summary>Feature maps [b, N·O, H, W] → [N, b, O, H, W]: channel block n back to group n.</summary>
    public static Tensor FromChannels(Tensor maps, int heads)
    {
        using Tensor split = maps.reshape(maps.size(0), heads, -1, maps.size(2), maps.size(3));
        return split.transpose(0, 1);
    }

    /// <summary>Group n of <paramref name="images"/> convolved with kernel n of <paramref name="kernels"/> [N, O, C, k, k]
    /// (stride, padding and dilation of <paramref name="conv"/>), as [N, b, O, H′, W′].</summary>
    public static Tensor Conv2d(Tensor images, Tensor kernels, Conv2d conv, int heads)
    {
        using Tensor channels = ToChannels(images, heads);
        using Tensor weight = kernels.flatten(0, 1);
        using Tensor maps = F.conv2d(channels, weight, null, conv.stride, conv.padding, conv.dilation, heads);
        return FromChannels(maps, heads);
    }

    /// <summary>Group n of <paramref name="indices"/> [N·b, …] looked up in table n of <paramref name="tables"/> [N, V, D], as [N, b·…, D].</summary>
    public static Tensor Lookup(Tensor indices, Tensor tables, int heads)
    {
        using var scope = torch.NewDisposeScope();
        long rows = tables.size(1);
        Tensor offsets = (torch.arange(heads, ScalarType.Int64, indices.device) * rows).unsqueeze(1);
        Tensor shifted = indices.reshape(heads, -1) + offsets;
        return F.embedding(shifted, tables.reshape(heads * rows, tables.size(2))).MoveToOuterDisposeScope();
    }
}
