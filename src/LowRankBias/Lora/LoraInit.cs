using LowRankBias.Torch;
using static LowRankBias.Torch.torch.nn;

namespace LowRankBias.Lora;

/// <summary>
/// Names of the initialisations of the LoRA factors (<c>init_lora_weights</c>). The drawn inits start B at zero
/// (every name but <see cref="Random"/>), so a fresh adapter leaves the layer's output unchanged; the name chooses A's
/// draw. The data-aware inits (<see cref="Pissa"/>, <c>pissa_niter_N</c>, <see cref="Olora"/>, <see cref="LoftQ"/>,
/// PEFT's) compute both factors from the base weight of a linear layer and rewrite that weight as the residual
/// (see <see cref="IsDataAware"/>).
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

    /// <summary>PEFT's PiSSA (Meng et al., 2024): from the full SVD W = U S Vᵀ, B = U_r √(S_r/s), A = √(S_r/s) V_rᵀ and the
    /// base becomes W − s·B A (its minor components).</summary>
    public const string Pissa = "pissa";

    /// <summary>Prefix of PEFT's fast PiSSA, <c>pissa_niter_N</c>: the top-r SVD from <see cref="torch.svd_lowrank"/> with N ≥ 1
    /// subspace iterations instead of a full SVD. Loading an adapter re-runs its init on the base before the file's
    /// factors replace the drawn ones (as in PEFT), and this one is random: share such adapters converted
    /// (<see cref="LoraModel.save_pretrained"/> with <c>path_initial_model_for_weight_conversion</c>).</summary>
    public const string PissaNiterPrefix = "pissa_niter_";

    /// <summary>PEFT's OLoRA (Büyükakyüz, 2024): W = Q R, B = Q[:, :r], A = R[:r] and the base becomes W − s·B A.</summary>
    public const string Olora = "olora";

    /// <summary>PEFT's LoftQ (Li et al., 2023): alternately NF4-quantize W − B A and take the top-r SVD of W − Q
    /// (<see cref="LoftQConfig.loftq_iter"/> times); the base holds Q's codes. Needs an NF4 <see cref="LoraConfig.base_quantization"/>.</summary>
    public const string LoftQ = "loftq";

    /// <summary>Every accepted name (<c>pissa_niter_N</c> stands for any N ≥ 1).</summary>
    public static IReadOnlyList<string> Names { get; } = [Kaiming, Gaussian, Xavier, Orthogonal, SemiOrthogonal, Random, Pissa, PissaNiterPrefix + "N", Olora, LoftQ];

    private static readonly string[] s_drawn = [Kaiming, Gaussian, Xavier, Orthogonal, SemiOrthogonal, Random];

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="init_lora_weights"/> unless it is one of <see cref="Names"/>.</summary>
    public static void Check(string init_lora_weights)
    {
        ArgumentNullException.ThrowIfNull(init_lora_weights);
        if (init_lora_weights.StartsWith(PissaNiterPrefix, StringComparison.Ordinal)) PissaIterations(init_lora_weights);
        else if (!s_drawn.Contains(init_lora_weights) && init_lora_weights is not (Pissa or Olora or LoftQ))
            throw new ArgumentException($"unknown init_lora_weights '{init_lora_weights}': expected one of {string.Join(", ", Names)}", nameof(init_lora_weights));
    }

    /// <summary>Whether <paramref name="name"/> computes the factors from the base weight (and rewrites it) rather than drawing them.</summary>
    public static bool IsDataAware(string name) => name is Pissa or Olora or LoftQ || name.StartsWith(PissaNiterPrefix, StringComparison.Ordinal);

    /// <summary>N of <c>pissa_niter_N</c>: a decimal integer ≥ 1 (0 would leave a single random projection).</summary>
    internal static int PissaIterations(string name)
    {
        string digits = name[PissaNiterPrefix.Length..];
        if (digits.Length == 0 || digits.Length > 9 || !digits.All(char.IsAsciiDigit) || int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture) < 1)
            throw new ArgumentException($"init_lora_weights '{name}': N in pissa_niter_N must be a whole number of subspace iterations >= 1, got '{digits}'", "init_lora_weights");
        return int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
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
            case var data when IsDataAware(data):
                throw new InvalidOperationException($"init_lora_weights '{name}' is computed from the base weight when the adapter is added; it cannot be redrawn");
            default: Check(name); break;
        }
    }
}
