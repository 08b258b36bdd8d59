using LowRankBias.Lora;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Tests.Lora;

/// <summary>
/// The float64 DoRA reference of tests/fixtures/dora/make_dora.py (PEFT's formulas re-derived in python3-torch) and the
/// three layers it describes — fc = Linear(5 → 4), conv = Conv2d(3 → 4, kernel 3, stride 2, padding 1),
/// emb = Embedding(7, 5) — with the fixture's base weights; r = 2, lora_alpha = 3.
/// </summary>
internal sealed class DoraFixture : IDisposable
{
    public static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "fixtures", "dora");
    public static readonly LoraConfig Config = new() { r = 2, lora_alpha = 3, use_dora = true, target_modules = new[] { "fc", "conv", "emb" } };

    private readonly Dictionary<string, Tensor> _tensors = SafeTensors.load_file(Path.Combine(Directory, "dora_reference.safetensors"));

    public Tensor this[string key] => _tensors[key];

    /// <summary>The base layer <paramref name="name"/> (fc, conv or emb) in float64 with the fixture's weight and bias.</summary>
    public Module Base(string name)
    {
        Module layer = name switch
        {
            "fc" => new Linear(5, 4, dtype: ScalarType.Float64),
            "conv" => new Conv2d(3, 4, 3, stride: 2, padding: 1, dtype: ScalarType.Float64),
            "emb" => new Embedding(7, 5, dtype: ScalarType.Float64),
            _ => throw new ArgumentException(name),
        };
        using var noGrad = no_grad();
        layer.get_parameter("weight").copy_(this[$"{name}.weight"]);
        if (name != "emb") layer.get_parameter("bias").copy_(this[$"{name}.bias"]);
        return layer;
    }

    /// <summary>A DoRA layer over <see cref="Base"/> whose A, B and magnitude are the fixture's.</summary>
    public LoraLayer Layer(string name)
    {
        LoraLayer layer = LoraLayerFactory.Create(Base(name), Config, "default");
        LoraTestKit.Fill(layer.lora_A["default"], this[$"{name}.lora_A"]);
        LoraTestKit.Fill(layer.lora_B["default"], this[$"{name}.lora_B"]);
        LoraTestKit.Fill(Magnitude(layer), this[$"{name}.magnitude"]);
        return layer;
    }

    /// <summary>The layer's DoRA magnitude of the default adapter, found by its state-dict name.</summary>
    public static Tensor Magnitude(LoraLayer layer, string adapter = "default") => layer.get_parameter($"lora_magnitude_vector.{adapter}");

    /// <summary>A module holding the three base layers under the fixture's paths.</summary>
    public Module Model() => new Holder(Base("fc"), Base("conv"), Base("emb"));

    public void Dispose()
    {
        foreach (Tensor t in _tensors.Values) t.Dispose();
    }

    private sealed class Holder : Module
    {
        public Module fc, conv, emb;

        public Holder(Module fc, Module conv, Module emb) => (this.fc, this.conv, this.emb) = (fc, conv, emb);

        public override Tensor forward(Tensor input) => fc.call(input);
    }
}
