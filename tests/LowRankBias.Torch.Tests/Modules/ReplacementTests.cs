using LowRankBias.Torch.Modules;
using MathNet.Numerics.LinearAlgebra;

namespace LowRankBias.Torch.Tests.Modules;

public class ReplacementTests
{
    private static Matrix<double> M(Tensor t) =>
        t.dim() == 1 ? Matrix<double>.Build.DenseOfRowMajor(1, (int)t.size(0), t.ToArray<double>())
                     : Matrix<double>.Build.DenseOfRowMajor((int)t.size(0), (int)t.size(1), t.ToArray<double>());

    private static Matrix<double> AddRow(Matrix<double> m, Matrix<double> row) =>
        Matrix<double>.Build.Dense(m.RowCount, m.ColumnCount, (i, j) => m[i, j] + row[0, j]);

    [Fact]
    public void ReplacingANestedFieldOfACustomModelChangesForwardToTheNewModule()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        using var model = new TinyModel(width: 3, depth: 2);
        Tensor x = tensor(new double[,] { { 0.5, -1, 2 }, { 1.5, 0.25, -0.75 } });
        double[] before = model.call(x).ToArray<double>();

        var oldQ = model.get_submodule("blocks.1.attn.q");
        var a = new double[,] { { 1, -2, 0.5 } };
        var b = new double[,] { { 0.3 }, { -0.1 }, { 2 } };
        using var lora = new LowRankAdd(oldQ, a, b);
        model.set_submodule("blocks.1.attn.q", lora);
        double[] after = model.call(x).ToArray<double>();

        // Independent float64 evaluation of the model as it should now be: block(h) = h + q(h) Woᵀ, with block 1's
        // q(h) = h Wqᵀ + bq + h Aᵀ Bᵀ.
        var p = model.state_dict();
        Matrix<double> Q(int i, Matrix<double> h) => AddRow(h * M(p[$"blocks.{i}.attn.q{(i == 1 ? ".base" : "")}.weight"]).Transpose(), M(p[$"blocks.{i}.attn.q{(i == 1 ? ".base" : "")}.bias"]));
        Matrix<double> h0 = M(x);
        Matrix<double> h1 = h0 + Q(0, h0) * M(p["blocks.0.attn.o.weight"]).Transpose();
        Matrix<double> q1 = Q(1, h1) + h1 * Matrix<double>.Build.DenseOfArray(a).Transpose() * Matrix<double>.Build.DenseOfArray(b).Transpose();
        Matrix<double> h2 = h1 + q1 * M(p["blocks.1.attn.o.weight"]).Transpose();

        double[] expected = h2.ToRowMajorArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], after[i], 1e-12);
        Assert.True(before.Zip(after).Max(t => Math.Abs(t.First - t.Second)) > 1e-3, "the low-rank term must change the output");
        Assert.Same(lora, model.get_submodule("blocks.1.attn.q"));
        Assert.False(oldQ.parameters().First().IsDisposed);
    }

    [Fact]
    public void NamesParametersAndStateDictFollowTheReplacement()
    {
        using var scope = NewDisposeScope();
        using var model = new TinyModel(width: 2, depth: 2);
        using var lora = new LowRankAdd(model.get_submodule("blocks.0.attn.q"), new double[,] { { 1, 2 } }, new double[,] { { 1 }, { 0 } });
        model.set_submodule("blocks.0.attn.q", lora);

        string[] names = model.named_parameters().Select(p => p.name).ToArray();
        Assert.Equal(new[]
        {
            "blocks.0.attn.q.A", "blocks.0.attn.q.B", "blocks.0.attn.q.base.weight", "blocks.0.attn.q.base.bias", "blocks.0.attn.o.weight",
            "blocks.1.attn.q.weight", "blocks.1.attn.q.bias", "blocks.1.attn.o.weight",
        }, names);
        Assert.Equal(names, model.state_dict().Keys);
        Assert.Same(lora.A, model.get_parameter("blocks.0.attn.q.A"));
    }

    [Fact]
    public void ReplacingAFieldDeclaredWithANarrowTypeExplainsHowToDeclareIt()
    {
        using var model = new TinyModel(width: 2, depth: 1);
        using var scale = new Scale(2);
        var error = Assert.Throws<ArgumentException>(() => model.set_submodule("blocks.0.attn.o", scale));
        Assert.Contains("declared as Linear", error.Message);
        Assert.Contains("Declare it as Module", error.Message);
        Assert.IsType<Linear>(model.get_submodule("blocks.0.attn.o"));
    }

    [Fact]
    public void ReplacingAContainerEntryChangesWhatSequentialRuns()
    {
        using var scope = NewDisposeScope();
        using var seq = new Sequential(new Scale(2), new Scale(3));
        Tensor x = tensor(new double[] { 1, -2 });
        Assert.Equal(new double[] { 6, -12 }, seq.call(x).ToArray<double>());
        using var five = new Scale(5);
        seq.set_submodule("1", five);
        Assert.Equal(new double[] { 10, -20 }, seq.call(x).ToArray<double>());
        Assert.Same(five, seq[1]);
    }

    private sealed class Wrapper(Module inner) : Module
    {
        public override Tensor forward(Tensor x) => inner.call(x);
    }

    [Fact]
    public void ACapturedPrimaryConstructorParameterIsAReplaceableChild()
    {
        using var scope = NewDisposeScope();
        using var wrapper = new Wrapper(new Scale(2));
        Assert.Equal(new[] { "inner" }, wrapper.named_children().Select(c => c.name));
        using var five = new Scale(5);
        wrapper.set_submodule("inner", five);
        Assert.Equal(new double[] { 5 }, wrapper.call(tensor(new double[] { 1 })).ToArray<double>());
    }

    [Fact]
    public void AGetOnlyAutoPropertyChildCanBeReplaced()
    {
        using var scope = NewDisposeScope();
        using var model = new TinyModel(width: 2, depth: 1);
        using var silent = new Attention(2);
        silent.load_state_dict(new Dictionary<string, Tensor>
        {
            ["q.weight"] = zeros([2, 2]), ["q.bias"] = zeros([2]), ["o.weight"] = zeros([2, 2]),
        });
        model.set_submodule("blocks.0.attn", silent);
        Tensor x = tensor(new double[,] { { 1.5, -2 } });
        Assert.Equal(x.ToArray<double>(), model.call(x).ToArray<double>());
    }

    [Fact]
    public void UnknownPathsAreClearErrors()
    {
        using var model = new TinyModel(width: 2, depth: 1);
        using var scale = new Scale(1);
        var missing = Assert.Throws<ArgumentException>(() => model.get_submodule("blocks.0.mlp.fc"));
        Assert.Contains("no submodule 'mlp'", missing.Message);
        Assert.Throws<ArgumentException>(() => model.set_submodule("blocks.0.attn.k", scale));
        Assert.Throws<ArgumentException>(() => model.get_submodule("blocks.3"));
        var noParam = Assert.Throws<ArgumentException>(() => model.get_parameter("blocks.0.attn.o.bias_x"));
        Assert.Contains("no parameter 'bias_x'", noParam.Message);
    }
}
