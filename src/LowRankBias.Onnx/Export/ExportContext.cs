using LowRankBias.Torch;
using LowRankBias.Torch.Modules;

namespace LowRankBias.Onnx.Export;

/// <summary>Emits a module's ONNX nodes for the value <paramref name="input"/> and returns its output value.</summary>
internal delegate string Emitter(ExportContext context, Module module, string path, string input);

/// <summary>
/// Walks a module tree the way each model's forward does: every supported module type has an emitter (one file per
/// family: <see cref="LayerEmitters"/>, <see cref="TransformerEmitters"/>, <see cref="ModelEmitters"/>) that adds its
/// nodes and calls <see cref="Emit"/> for its children. Inference semantics, as <c>torch.onnx.export</c> exports by
/// default: dropout is the identity and BatchNorm uses its running statistics.
/// </summary>
internal sealed class ExportContext(ExportGraph graph)
{
    private static readonly Dictionary<Type, Emitter> s_emitters =
        LayerEmitters.All.Concat(TransformerEmitters.All).Concat(ModelEmitters.All).ToDictionary(e => e.type, e => e.emit);

    public ExportGraph Graph => graph;

    /// <summary>The output of <paramref name="module"/> (at <paramref name="path"/> in the tree) for <paramref name="input"/>.</summary>
    public string Emit(Module module, string path, string input) =>
        s_emitters.TryGetValue(module.GetType(), out Emitter? emit) ? emit(this, module, path, input)
            : throw new NotSupportedException($"export_onnx: '{(path.Length == 0 ? "(the model)" : path)}' is a {module.GetType().FullName}, which the ONNX " +
                $"exporter does not know; supported: {string.Join(", ", s_emitters.Keys.Select(t => t.Name).Order(StringComparer.Ordinal))}");

    /// <summary>The child <paramref name="name"/> of the module at <paramref name="path"/>, emitted.</summary>
    public string Child(Module child, string path, string name, string input) => Emit(child, path.Length == 0 ? name : $"{path}.{name}", input);

    /// <summary>Registers an emitter for modules of type <typeparamref name="T"/>.</summary>
    public static (Type type, Emitter emit) On<T>(Func<ExportContext, T, string, string, string> emit) where T : Module =>
        (typeof(T), (c, m, p, x) => emit(c, (T)m, p, x));
}
