using LowRankBias.Torch;

namespace LowRankBias.Onnx;

/// <summary>An initializer of the imported graph and where it lives in the model.</summary>
/// <param name="name">The initializer's name in the .onnx file.</param>
/// <param name="state_key">Its key in <c>state_dict()</c>: a parameter or buffer of the model (the ONNX name made an
/// identifier), or <c>&lt;layer&gt;.weight</c>/<c>.bias</c> of the layer a node became.</param>
/// <param name="shape">Its shape in the file.</param>
/// <param name="dtype">Its element type.</param>
/// <param name="is_parameter">True for trainable parameters (float tensors other than BatchNormalization statistics).</param>
/// <param name="transposed">True when the layer holds it transposed (a MatMul weight [in, out] as Linear's [out, in]).</param>
public sealed record OnnxInitializer(string name, string state_key, long[] shape, ScalarType dtype, bool is_parameter, bool transposed);

/// <summary>A node of the imported graph, in the order the model runs them.</summary>
/// <param name="name">The node's name (or <c>&lt;op_type&gt;_&lt;index&gt;</c> when the file gives none).</param>
/// <param name="op_type">The ONNX operator.</param>
/// <param name="inputs">The names of its inputs ("" for an omitted optional input).</param>
/// <param name="outputs">The names of its outputs.</param>
/// <param name="module">The child module it became (a <c>Linear</c> or <c>Conv2d</c>), or null.</param>
/// <param name="folded">True when its inputs were all constants and it was computed once, at load time.</param>
public sealed record OnnxNode(string name, string op_type, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, string? module, bool folded);
