using LowRankBias.Torch;
using static LowRankBias.Torch.torch.nn;

namespace LowRankBias.Lora;

/// <summary>
/// Names of the initialisations of the LoRA factors (<c>init_lora_weights</c>). B starts at zero for every name
/// but <see cref="Random"/>, so a fresh adapter leaves the layer's output unchanged; the name chooses A's draw.
/// </summary>
public static class LoraInit
{
    /// <summary>PEFT's default (<c>init_lora_weights: true</c>): A ~ kaiming_uniform_(a = √5), i.e. U(−1/√fan_in, 1/√fan_in).</summary>
    public const string Kaiming = "kaiming";

    /// <summary>PEFT's <c>"gaussian"</c>: A ~ N(0, σ²) with σ = 1/r.</summary>
    public const string Gaussian = "gaussian";

    /// <summary>A ~ xavier_uniform_ (Glorot), which accounts for A's rectangular shape.</summary>
    public const string Xavier = "xavier";

    /// <summary>A has orthonormal rows (gain 1).</summary>
    public const string Orthogonal = "orthogonal";

    /// <summary>The LTE paper's choice (Bernstein et al., 2023): A semi-orthogonal, every singular value √(r/fan_in).</summary>
    public const string SemiOrthogonal = "semi_orthogonal";

    /// <summary>PEFT's <c>init_lora_weights: false</c>: A and B both kaiming-uniform, so the adapter is not a no-op (for tests).</summary>
    public const string Random = "random";

    /// <summary>Every accepted name.</summary>
    public static IReadOnlyList<string> Names { get; } = [Kaiming, Gaussian, Xavier, Orthogonal, SemiOrthogonal, Random];

    /// <summary>Throws unless <paramref name="name"/> is one of <see cref="Names"/>.</summary>
    public static void Check(string name)
    {
        if (!Names.Contains(name))
            throw new ArgumentException($"unknown init_lora_weights '{name}': expected one of {string.Join(", ", Names)}", nameof(name));
    }

    /// <summary>
    /// Fills one head's factors in place: <paramref name="a"/> is [r, fan_in…] and <paramref name="b"/> is
    /// [fan_out, r…]; both are drawn without autograd.
    /// </summary>
    internal static void Apply(string name, Tensor a, Tensor b)
    {
        Draw(name, a);
        if (name == Random) init.kaiming_uniform_(b, a: Math.Sqrt(5));
        else init.zeros_(b);
    }

    /// <summary>Draws <paramref name="factor"/> ([r or out, fan_in…]) with the scheme <paramref name="name"/> names,
    /// from <paramref name="generator"/> when given, else from the global generator.</summary>
    internal static void Draw(string name, Tensor factor, Generator? generator = null)
    {
        switch (name)
        {
            case Kaiming or Random: init.kaiming_uniform_(factor, a: Math.Sqrt(5), generator: generator); break;
            case Gaussian: init.normal_(factor, 0, 1.0 / factor.size(0), generator); break;
            case Xavier: init.xavier_uniform_(factor, generator: generator); break;
            case Orthogonal: init.orthogonal_(factor, generator: generator); break;
            case SemiOrthogonal: init.semi_orthogonal_(factor, generator); break;
            default: Check(name); break;
        }
    }
}
