using LowRankBias.Torch.Modules;

namespace LowRankBias.Torch.Tests.Models;

/// <summary>Helpers for checking that a model's layers can be swapped the way LoRA swaps them.</summary>
internal static class ReplaceableLayers
{
    /// <summary>Runs the wrapped layer and rescales its output: a stand-in for an injected adapter. (A shift would not
    /// do: shifting a key projection, or anything a LayerNorm follows, leaves the output unchanged.)</summary>
    private sealed class Scaled(Module inner) : Module
    {
        public override Tensor forward(Tensor x)
        {
            using Tensor y = inner.call(x);
            return y * 1.5;
        }
    }

    /// <summary>Paths of the modules of type <typeparamref name="T"/>.</summary>
    public static string[] PathsOf<T>(Module model) where T : Module =>
        model.named_modules().Where(m => m.module is T).Select(m => m.name).ToArray();

    /// <summary>Replaces each layer in turn by a wrapper around it and asserts that the output changes and that
    /// restoring the layer restores the output.</summary>
    public static void AssertEachReplacementChangesTheOutput(Module model, IEnumerable<string> paths, Tensor input)
    {
        using DisposeScope scope = torch.NewDisposeScope();
        double[] original = model.call(input).ToArray<double>();
        foreach (string path in paths)
        {
            Module layer = model.get_submodule(path);
            // Not disposed: a wrapper's Dispose would free the borrowed layer, which the model owns again afterwards.
            var wrapper = new Scaled(layer);
            model.set_submodule(path, wrapper);
            Assert.Same(wrapper, model.get_submodule(path));
            double[] changed = model.call(input).ToArray<double>();
            Assert.True(original.Zip(changed).Max(p => Math.Abs(p.First - p.Second)) > 1e-9, $"replacing '{path}' did not change the output");
            model.set_submodule(path, layer);
        }
        Assert.Equal(original, model.call(input).ToArray<double>());
    }
}
