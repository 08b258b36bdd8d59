using LowRankBias.Lora;
using LowRankBias.Lte;
using LowRankBias.Spectral;
using LowRankBias.Torch.Tests;

namespace LowRankBias.Tests.Lora;

/// <summary>DoRA (use_dora) on Linear, Conv2d and Embedding against the float64 reference of
/// tests/fixtures/dora/make_dora.py, which re-derives PEFT's DoRA formulas in python3-torch.</summary>
public sealed class DoraTests
{
    public static TheoryData<string> Layers => new() { "fc", "conv", "emb" };

    [Theory]
    [MemberData(nameof(Layers))]
    public void Forward_matches_the_reference(string name)
    {
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        using LoraLayer layer = fixture.Layer(name);
        LoraTestKit.AssertRelative(fixture[$"{name}.output"], layer.call(fixture[$"{name}.input"]), 1e-9, name);
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Gradients_of_A_B_and_the_magnitude_match_the_reference_with_the_norm_detached(string name)
    {
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        using LoraLayer layer = fixture.Layer(name);
        Tensor loss = (layer.call(fixture[$"{name}.input"]) * fixture[$"{name}.loss_weight"]).sum();
        loss.backward();
        LoraTestKit.AssertRelative(fixture[$"{name}.grad_A"], layer.lora_A["default"].grad!, 1e-9, "A");
        LoraTestKit.AssertRelative(fixture[$"{name}.grad_B"], layer.lora_B["default"].grad!, 1e-9, "B");
        LoraTestKit.AssertRelative(fixture[$"{name}.grad_magnitude"], DoraFixture.Magnitude(layer).grad!, 1e-9, "magnitude");
    }

    [Fact]
    public void With_dropout_the_base_output_sees_x_and_the_dora_correction_the_dropped_x_as_in_peft()
    {
        // PEFT's DoraLinearVariant.forward: result(x) + (k − 1) W x' + k s·BA x' with x' = dropout(x); the mask is the
        // forward pass's first random draw, so reseeding reproduces it.
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        using LoraLayer layer = fixture.Layer("fc");
        layer.update_layer("dropped", DoraFixture.Config with { lora_dropout = 0.5 });
        layer.set_adapter("dropped");
        LoraTestKit.Fill(layer.lora_A["dropped"], fixture["fc.lora_A"]);
        LoraTestKit.Fill(layer.lora_B["dropped"], fixture["fc.lora_B"]);
        LoraTestKit.Fill(DoraFixture.Magnitude(layer, "dropped"), fixture["fc.magnitude"]);
        Tensor x = fixture["fc.input"], w = fixture["fc.weight"];
        manual_seed(3);
        Tensor actual = layer.call(x);
        manual_seed(3);
        Tensor dropped = nn.functional.dropout(x, 0.5, training: true);
        Tensor k = fixture["fc.magnitude"] / fixture["fc.magnitude_init"];
        Tensor expected = nn.functional.linear(x, w, fixture["fc.bias"]) + (k - 1) * nn.functional.linear(dropped, w)
                          + k * 1.5 * nn.functional.linear(nn.functional.linear(dropped, fixture["fc.lora_A"]), fixture["fc.lora_B"]);
        Assert.False(allclose(dropped, x), "dropout dropped nothing");
        LoraTestKit.AssertRelative(expected, actual, 1e-9, "training with dropout");
        layer.eval();
        LoraTestKit.AssertRelative(fixture["fc.output"], layer.call(x), 1e-9, "evaluation: no dropout");
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Merge_writes_the_reference_weight_and_unmerge_gives_the_base_back_bit_for_bit(string name)
    {
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        using LoraLayer layer = fixture.Layer(name);
        Tensor input = fixture[$"{name}.input"];
        layer.merge();
        LoraTestKit.AssertRelative(fixture[$"{name}.merged"], layer.weight, 1e-9, "merged weight");
        LoraTestKit.AssertRelative(fixture[$"{name}.output"], layer.call(input), 1e-9, "merged output");
        layer.unmerge();
        Assert.True(allclose(fixture[$"{name}.weight"], layer.weight, 0, 0), "the base weight did not come back bit for bit");
        LoraTestKit.AssertRelative(fixture[$"{name}.output"], layer.call(input), 1e-9, "unmerged output");
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Unmerging_an_edited_weight_divides_the_edit_by_the_scale_of_the_merge(string name)
    {
        // Merged W' = k ⊙ (W + ΔW), k = m / ‖W + ΔW‖; unmerge computes W'/k − ΔW, so an edit E of W' comes back as E/k.
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        using LoraLayer layer = fixture.Layer(name);
        layer.merge();
        Tensor edit = TestData.Randn(7, layer.weight.shape) * 1e-3;
        using (no_grad()) layer.weight.add_(edit);
        layer.unmerge();
        long[] view = name switch { "fc" => [-1, 1], "conv" => [-1, 1, 1, 1], _ => [1, -1] };
        Tensor k = (fixture[$"{name}.magnitude"] / fixture[$"{name}.magnitude_init"]).reshape(view);
        LoraTestKit.AssertRelative(fixture[$"{name}.weight"] + edit / k, layer.weight, 1e-9, name);
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void The_magnitude_starts_at_the_norms_of_the_weight_in_peft_s_shape(string name)
    {
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        using LoraLayer layer = LoraLayerFactory.Create(fixture.Base(name), DoraFixture.Config, "default");
        // B starts at zero, so m = ‖W‖ per output channel; the fresh adapter changes nothing.
        LoraTestKit.AssertRelative(fixture[$"{name}.magnitude_base"], DoraFixture.Magnitude(layer), 1e-12, name);
        using LoraLayer plain = LoraLayerFactory.Create(fixture.Base(name), DoraFixture.Config with { use_dora = false }, "default");
        Tensor input = fixture[$"{name}.input"];
        LoraTestKit.AssertRelative(plain.call(input), layer.call(input), 1e-12, "fresh adapter");
    }

    [Fact]
    public void With_both_factors_drawn_the_magnitude_is_the_row_norm_of_w_plus_s_ba()
    {
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        using LoraLayer layer = LoraLayerFactory.Create(fixture.Base("fc"), DoraFixture.Config with { init_lora_weights = LoraInit.Random }, "default");
        Tensor w = fixture["fc.weight"] + 1.5 * layer.lora_B["default"].mm(layer.lora_A["default"]);
        double[] expected = Enumerable.Range(0, 4).Select(i => Math.Sqrt(LoraTestKit.ToDoubles(w.select(0, i)).Sum(v => v * v))).ToArray();
        Assert.Equal(expected, LoraTestKit.ToDoubles(DoraFixture.Magnitude(layer)), (x, y) => Math.Abs(x - y) <= 1e-12 * Math.Abs(x));
    }

    [Fact]
    public void The_spectral_monitor_measures_the_merged_weight()
    {
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        using var lora = LoraModel.from_pretrained(fixture.Model(), Path.Combine(DoraFixture.Directory, "peft_adapter"));
        var weights = SpectralMonitor.Weights(lora.model).ToDictionary(w => w.name, w => w.weight);
        LoraTestKit.AssertRelative(fixture["fc.merged"], weights["fc"], 1e-9, "fc");
        LoraTestKit.AssertRelative(fixture["conv.merged"], weights["conv"], 1e-9, "conv");
        LoraTestKit.AssertRelative(fixture["emb.merged"].t(), weights["emb"], 1e-9, "emb (out × in)");
    }

    [Fact]
    public void Lte_refuses_dora_by_name()
    {
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        using var lora = new LoraModel(fixture.Model(), DoraFixture.Config);
        var e = Assert.Throws<ArgumentException>(() => new LowRankBias.Lte.Lte(lora.model, new LteOptions()));
        Assert.Contains("use_dora", e.Message);
        Assert.Contains("W += s/N", e.Message);
    }

    [Fact]
    public void Multi_head_dora_is_refused_naming_use_dora()
    {
        using var scope = NewDisposeScope();
        using var fixture = new DoraFixture();
        var e = Assert.Throws<ArgumentException>(() => LoraLayerFactory.Create(fixture.Base("fc"), DoraFixture.Config with { num_heads = 2 }, "default"));
        Assert.Equal("use_dora", e.ParamName);
    }
}
