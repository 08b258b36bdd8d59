using LowRankBias.Spectral;
using LowRankBias.Torch.Data;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Training;
using static LowRankBias.Tests.Spectral.TestMatrices;

namespace LowRankBias.Tests.Spectral;

/// <summary>
/// The pipeline against make_metrics.py's re-derivation of prepare_features + compute_score, against the pairwise
/// metric, and against closed forms (a model aligns 1.0 with itself; unrelated features near chance k/(n − 1)).
/// </summary>
public class PlatonicAlignmentTests
{
    private static Tensor F(string key) => PlatonicMetricsTests.Fixture.Value[key];

    private static ModelNeighbours FixtureModel(string model, bool exact) =>
        PlatonicAlignment.FromFeatures(model, ["0", "1", "2"], [F($"{model}.0"), F($"{model}.1"), F($"{model}.2")],
            new PlatonicOptions { K = PlatonicMetricsTests.TopK, ExactQuantile = exact });

    [Theory]
    [InlineData("exact", true)]
    [InlineData("mean", false)]
    public void PreparationAndBestPairMatchPlatonicRep(string mode, bool exact)
    {
        using var scope = NewDisposeScope();
        for (int l = 0; l < 3; l++)
        {
            Tensor prepared = PlatonicAlignment.RemoveOutliers(F($"model_a.{l}"), 0.95, exact);
            Assert.Equal(0.0, (prepared - F($"{mode}.model_a.{l}")).abs().max().item<double>(), 12);
        }
        using ModelNeighbours a = FixtureModel("model_a", exact), b = FixtureModel("model_b", exact);
        double[,] scores = PlatonicAlignment.LayerScores(a, b);
        double[] expected = F($"{mode}.scores").reshape(-1).ToArray<double>();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) Assert.Equal(expected[3 * i + j], scores[i, j], 12);
        double[] best = F($"{mode}.best").ToArray<double>();
        LayerPairScore pair = PlatonicAlignment.BestLayerPair(a, b);
        Assert.Equal(best[0], pair.Score, 12);
        Assert.Equal(((int)best[1], (int)best[2]), (pair.LayerA, pair.LayerB));
    }

    [Fact]
    public void BlockedNeighboursMatchTheWholeSearchAndTheMetric()
    {
        using var scope = NewDisposeScope();
        Tensor x = ToTensor(Gaussian(50, 7, seed: 91)), y = ToTensor(Gaussian(50, 7, seed: 91) + 0.6 * Gaussian(50, 7, seed: 92));
        Tensor whole = PlatonicAlignment.NearestNeighbours(x, 6), blocked = PlatonicAlignment.NearestNeighbours(x, 6, blockRows: 7);
        Assert.True((whole == blocked).all().item<bool>());
        Assert.Equal(RepresentationAlignment.MutualKnn(x, y, 6), PlatonicAlignment.MutualKnn(blocked, PlatonicAlignment.NearestNeighbours(y, 6, 11)), 12);
        Assert.False((whole == arange(50).unsqueeze(1)).any().item<bool>());   // no sample is its own neighbour
    }

    [Fact]
    public void UnrelatedFeaturesAlignNearChance()
    {
        using var scope = NewDisposeScope();
        using ModelNeighbours a = PlatonicAlignment.FromFeatures("a", ["0"], [ToTensor(Gaussian(400, 16, seed: 93))]);
        using ModelNeighbours b = PlatonicAlignment.FromFeatures("b", ["0"], [ToTensor(Gaussian(400, 16, seed: 94))]);
        Assert.InRange(PlatonicAlignment.BestLayerPair(a, b).Score, 0, 0.06);   // chance 10/399 ≈ 0.025
    }

    private static (string, Module)[] Zoo() =>
    [
        ("mlp", new MLP(new MLP.Config { widths = [64, 24, 16, 10] })),
        ("cnn", new ConvNet(ConvNet.Config.FashionMnist with { channels = [4, 8], hidden_features = 12 })),
        ("vit", new VisionTransformer(new VisionTransformer.Config { image_size = 8, patch_size = 4, in_channels = 1, num_layers = 2, num_heads = 2, hidden_dim = 8, mlp_dim = 16 })),
        ("mixer", new MlpMixer(new MlpMixer.Config { image_size = 8, patch_size = 4, in_channels = 1, num_blocks = 2, hidden_dim = 8, tokens_mlp_dim = 4, channels_mlp_dim = 16 })),
    ];

    [Fact]
    public void FeaturesComeFromEveryBlockAndTheLastTapIsTheOutput()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        Tensor images = randn([20, 1, 8, 8]);
        foreach ((string name, Module model) in Zoo())
        {
            Tensor input = name == "mlp" ? images.reshape(20, 64) : images;
            IReadOnlyList<FeatureTap> taps = PlatonicAlignment.DefaultTaps(model);
            Tensor[] features = PlatonicAlignment.ExtractFeatures(model, input, batchSize: 7);
            Assert.Equal(taps.Count, features.Length);
            Assert.All(features, f => Assert.Equal(20, f.size(0)));
            model.eval();
            Tensor output = model.call(input);
            switch (model)
            {
                case MLP or ConvNet:   // the last tap is the classifier
                    Assert.True(allclose(output, features[^1], atol: 1e-6), name);
                    break;
                case VisionTransformer vit:   // the logits are head(ln(class token of the last block))
                    Assert.Equal(FeaturePooling.ClassToken, taps[0].Pooling);
                    Assert.True(allclose(output, vit.head.call(vit.ln.call(features[^1])), atol: 1e-6), name);
                    break;
            }
        }
    }

    [Fact]
    public void AModelAlignsFullyWithItselfAndItsCopy()
    {
        using var scope = NewDisposeScope();
        manual_seed(4);
        Tensor images = randn([40, 1, 8, 8]);
        (string, Module)[] zoo = Zoo()[1..];
        PairwiseAlignment result = PlatonicAlignment.Score([.. zoo, ("cnn copy", zoo[0].Item2)], images, new PlatonicOptions { K = 5 });
        Assert.Equal(["cnn", "vit", "mixer", "cnn copy"], result.Names);
        Assert.Equal(1, result.Scores[0, 3], 12);
        Assert.Equal(new LayerPairScore(1, 0, 0), result.Pairs[0, 3]);   // the first perfect pair
        for (int i = 0; i < 4; i++) Assert.Equal(1, result.Scores[i, i], 12);
        Assert.Equal(result.Scores[1, 2], result.Scores[2, 1]);
        Assert.Equal(result.Pairs[1, 2].LayerA, result.Pairs[2, 1].LayerB);
    }

    [Fact]
    public void TheMonitorLogsWhatScoreReturns()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        Tensor inputs = randn([48, 64]), labels = randint(0, 10, [48]);
        var model = new MLP(new MLP.Config { widths = [64, 32, 10] });
        var options = new PlatonicOptions { K = 5 };
        var reference = new MLP(new MLP.Config { widths = [64, 16, 10] });
        using var monitor = new AlignmentMonitor([PlatonicAlignment.Neighbours("reference", reference, inputs, options)], inputs, options);
        using var optimizer = new AdamW(model.parameters(), lr: 0.01);
        var trainer = new Trainer(model, optimizer, ClassificationLoss.CrossEntropy(), new TrainerOptions { MaxSteps = 4, Progress = ProgressMode.None });
        monitor.Attach(trainer, every: 2);
        trainer.Fit(new DataLoader(new TensorDataset(inputs, labels), batch_size: 12));
        Assert.Equal([2L, 4L], monitor.History.Select(h => h.Step));
        Assert.True(model.training);   // extraction restores the mode
        Assert.Equal(monitor.Score(model)["reference"], monitor.History[^1].Scores["reference"]);
    }

    [Fact]
    public void BadInputNamesTheArgument()
    {
        using var scope = NewDisposeScope();
        Assert.Equal("models", Assert.Throws<ArgumentException>(() => PlatonicAlignment.Score(Array.Empty<ModelNeighbours>())).ParamName);
        Assert.Equal("models", Assert.Throws<ArgumentException>(() => PlatonicAlignment.Score(Array.Empty<(string, Module)>(), randn([5, 64]))).ParamName);
        var mlp = new MLP(new MLP.Config { widths = [64, 8] });
        Assert.Equal("options", Assert.Throws<ArgumentOutOfRangeException>(() => PlatonicAlignment.Score([("m", mlp)], randn([10, 64]))).ParamName);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => PlatonicAlignment.NearestNeighbours(randn([5, 3]), 5)).ParamName);
        Assert.Equal("features", Assert.Throws<ArgumentException>(() => PlatonicAlignment.NearestNeighbours(randn([5, 3]) / 0.0, 2)).ParamName);
        Assert.Equal("q", Assert.Throws<ArgumentOutOfRangeException>(() => PlatonicAlignment.RemoveOutliers(randn([5, 3]), 0)).ParamName);
        Assert.Equal("layers", Assert.Throws<ArgumentException>(() => PlatonicAlignment.FromFeatures("m", ["0", "1"], [randn([6, 3]), randn([5, 3])])).ParamName);
        Assert.Equal("model", Assert.Throws<ArgumentException>(() => PlatonicAlignment.DefaultTaps(new Linear(3, 2))).ParamName);
        Assert.Equal("taps", Assert.Throws<ArgumentException>(() => PlatonicAlignment.ExtractFeatures(mlp, randn([4, 64]), [new FeatureTap("stray", new Linear(3, 2))])).ParamName);
        using ModelNeighbours six = PlatonicAlignment.FromFeatures("six", ["0"], [randn([6, 3])], new PlatonicOptions { K = 2 });
        using ModelNeighbours seven = PlatonicAlignment.FromFeatures("seven", ["0"], [randn([7, 3])], new PlatonicOptions { K = 2 });
        Assert.Equal("models", Assert.Throws<ArgumentException>(() => PlatonicAlignment.Score([six, seven])).ParamName);
    }
}
