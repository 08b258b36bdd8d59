using LowRankBias.Lora;
using LowRankBias.Torch.Tests.IO;
using LowRankBias.Torch.Models;
using LowRankBias.Torch.Modules;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Xunit.Abstractions;
using Tensor = LowRankBias.Torch.Tensor;

namespace LowRankBias.Onnx.Tests;

/// <summary>Exported models compute in ONNX Runtime, and re-imported with OnnxModel, what they compute here, at batch
/// sizes other than the example's.</summary>
public class OnnxExportTests(ITestOutputHelper output)
{
    public static TheoryData<string, int> Models => new()
    {
        { "mlp", 13 }, { "mlp", 17 }, { "deep_linear", 17 }, { "convnet", 13 }, { "resnet", 13 }, { "resnet_bottleneck", 17 },
        { "resnet_features", 17 }, { "vit", 17 }, { "mixer", 17 }, { "gpt", 17 },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void An_exported_model_computes_in_onnx_runtime_and_reimported_what_it_computes_here(string name, int opset)
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        (Module model, Func<long, Tensor> input) = Build(name);
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, name + ".onnx");
        model.export_onnx(path, input(2), opset_version: opset);
        model.eval();

        using OnnxModel imported = OnnxModel.load(path);
        Assert.Equal(opset, imported.opset_version);
        var keys = model.state_dict().Keys.ToHashSet();
        Assert.All(imported.initializers, i => Assert.Contains(i.name, keys));  // initializers carry the state-dict keys
        foreach (long batch in new long[] { 1, 3 })
        {
            Tensor x = input(batch);
            Tensor expected;
            using (no_grad()) expected = model.call(x);
            double runtime = Fixtures.MaxAbsDifference(Runtime(path, x), expected);
            double reimported = (imported.call(x) - expected).abs().max().item<float>();
            output.WriteLine($"{name} opset {opset} batch {batch}: max |ONNX Runtime - ours| = {runtime:G3}, |re-imported - ours| = {reimported:G3}");
            Assert.True(runtime <= 1e-5, $"batch {batch}: ONNX Runtime differs by {runtime:G3}");
            Assert.True(reimported <= 1e-5, $"batch {batch}: the re-imported model differs by {reimported:G3}");
        }
        model.Dispose();
    }

    [Fact]
    public void The_batch_axis_is_dynamic_and_a_tied_weight_is_written_once()
    {
        using var scope = NewDisposeScope();
        (Module gpt, Func<long, Tensor> input) = Build("gpt");
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "gpt.onnx");
        gpt.export_onnx(path, input(2));
        using var session = new InferenceSession(path);
        Assert.Equal([-1, -1], session.InputMetadata["input"].Dimensions);
        Assert.Equal([-1, -1, 11], session.OutputMetadata["output"].Dimensions);
        using OnnxModel imported = OnnxModel.load(path);
        Assert.Single(imported.initializers, i => i.name is "wte.weight" or "lm_head.weight");
        Assert.Contains(imported.initializers, i => i.name == "wte.weight");
        gpt.Dispose();
    }

    [Fact]
    public void Lora_must_be_merged_first_and_the_merged_model_exports_the_adapted_function()
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        var mlp = new MLP(new MLP.Config { widths = [6, 8, 3] });
        var lora = new LoraModel(mlp, new LoraConfig { r = 2, lora_alpha = 4, target_modules = new[] { "layers.0" }, init_lora_weights = LoraInit.Random });
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "lora.onnx");
        Tensor x = randn([4, 6]);
        var refused = Assert.Throws<InvalidOperationException>(() => lora.export_onnx(path, x));
        Assert.Contains("merge_and_unload", refused.Message);
        Assert.Contains("layers.0", refused.Message);
        Assert.False(File.Exists(path));

        lora.eval();
        Tensor adapted;
        using (no_grad()) adapted = lora.call(x);
        Module merged = lora.merge_and_unload();
        merged.export_onnx(path, x);
        Assert.True(Fixtures.MaxAbsDifference(Runtime(path, x), adapted) <= 1e-5);
    }

    [Fact]
    public void A_lora_fine_tuned_resnet_with_its_preprocessing_exports_what_it_computes()
    {
        // The README's flow at CPU-test size: preprocessing, frozen BatchNorm, LoRA on the convolutions, a new head, a few
        // steps of training, merge, export of preprocessing and model together.
        using var scope = NewDisposeScope();
        manual_seed(13);
        var prep = new ImagePreprocess(rand([1, 3, 32, 32]) * 100, reverse_channels: true);
        var resnet = new ResNet(new ResNet.Config { layers = [1, 1, 1, 1], width = 4, num_classes = 3 });
        Tensor pixels = rand([6, 3, 32, 32]) * 255, labels = tensor(new long[] { 0, 1, 2, 0, 1, 2 });
        using (no_grad()) resnet.call(prep.call(pixels)).Dispose();  // statistics of these inputs, as pretrained ones would be
        resnet.freeze_batchnorm();
        var lora = new LoraModel(resnet, new LoraConfig
        {
            r = 2, lora_alpha = 4, target_modules = new[] { "conv1", "conv2" }, modules_to_save = new[] { "fc" },
        });
        using var optimizer = new LowRankBias.Torch.Optim.SGD(lora.parameters().Where(p => p.requires_grad), lr: 0.01);
        for (int step = 0; step < 3; step++)
        {
            using var stepScope = NewDisposeScope();
            Tensor loss = nn.functional.cross_entropy(lora.call(prep.call(pixels)), labels);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
        }
        using var pipeline = new Sequential(prep, lora.merge_and_unload());
        pipeline.eval();
        Tensor expected;
        using (no_grad()) expected = pipeline.call(pixels);
        Assert.True(expected.isfinite().all().item<bool>());
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "finetuned.onnx");
        pipeline.export_onnx(path, pixels.narrow(0, 0, 1));

        double difference = Fixtures.MaxAbsDifference(Runtime(path, pixels), expected);
        output.WriteLine($"fine-tuned ResNet with preprocessing, batch 6: max |ONNX Runtime - ours| = {difference:G3}");
        Assert.True(difference <= 1e-5 * Math.Max(1, expected.abs().max().item<float>()), $"ONNX Runtime differs by {difference:G3}");
    }

    [Fact]
    public void Unsupported_modules_and_opsets_are_refused_naming_the_module()
    {
        using var scope = NewDisposeScope();
        using var dir = new TempDirectory();
        string path = Path.Combine(dir.Path, "m.onnx");
        using var model = new Sequential(new Linear(4, 4), new GroupNorm(2, 4));
        var unknown = Assert.Throws<NotSupportedException>(() => model.export_onnx(path, randn([2, 4])));
        Assert.Contains("'1'", unknown.Message);
        Assert.Contains("GroupNorm", unknown.Message);
        Assert.False(File.Exists(path));

        (Module vit, Func<long, Tensor> input) = Build("vit");
        var old = Assert.Throws<NotSupportedException>(() => vit.export_onnx(path, input(1), opset_version: 13));
        Assert.Contains("LayerNorm 'blocks.0.ln_1' needs ONNX opset 17", old.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => vit.export_onnx(path, input(1), opset_version: 12));
        vit.Dispose();
    }

    private static (Module model, Func<long, Tensor> input) Build(string name)
    {
        Func<long, Tensor> images(long channels, long size) => n => randn([n, channels, size, size]);
        switch (name)
        {
            case "mlp": return (new MLP(new MLP.Config { widths = [6, 16, 16, 3], activation = "gelu" }), n => randn([n, 6]));
            case "deep_linear": return (new MLP(MLP.Config.DeepLinear(3, 5)), n => randn([n, 5]));
            case "convnet": return (new ConvNet(new ConvNet.Config { in_channels = 2, channels = [4, 6, 8], hidden_features = 10, num_classes = 3 }), images(2, 12));
            case "vit":
                return (new VisionTransformer(new VisionTransformer.Config
                {
                    image_size = 8, patch_size = 4, in_channels = 2, num_classes = 5, num_layers = 2, num_heads = 2, hidden_dim = 8, mlp_dim = 16,
                }), images(2, 8));
            case "mixer":
                return (new MlpMixer(new MlpMixer.Config
                {
                    image_size = 8, patch_size = 4, in_channels = 2, num_classes = 5, num_blocks = 2, hidden_dim = 8, tokens_mlp_dim = 6, channels_mlp_dim = 12,
                }), images(2, 8));
            case "gpt":
                return (new GPT(new GPT.Config { vocab_size = 11, block_size = 8, n_layer = 2, n_head = 2, n_embd = 8, mlp_dim = 16 }),
                    n => randint(0, 11, [n, 7]));
            default:
                bool bottleneck = name == "resnet_bottleneck";
                var resnet = new ResNet(new ResNet.Config
                {
                    bottleneck = bottleneck, layers = [1, 2, 1, 1], width = 4, num_classes = name == "resnet_features" ? 0 : 5, in_channels = 3,
                });
                // Running statistics other than 0 and 1, so the export must carry them.
                using (no_grad()) for (int i = 0; i < 3; i++) resnet.call(randn([4, 3, 32, 32]) * 2 + 1).Dispose();
                if (name == "resnet_bottleneck") resnet.freeze_batchnorm();
                return (resnet, images(3, 32));
        }
    }

    private static float[] Runtime(string path, Tensor x)
    {
        using var session = new InferenceSession(path);
        int[] dims = x.shape.Select(d => (int)d).ToArray();
        NamedOnnxValue value = x.dtype == ScalarType.Int64
            ? NamedOnnxValue.CreateFromTensor("input", new DenseTensor<long>(x.contiguous().ToArray<long>(), dims))
            : NamedOnnxValue.CreateFromTensor("input", new DenseTensor<float>(x.contiguous().ToArray<float>(), dims));
        using var results = session.Run([value]);
        return results.Single().AsEnumerable<float>().ToArray();
    }
}
