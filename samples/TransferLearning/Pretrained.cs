using System.Reflection;
using LowRankBias.Onnx;
using LowRankBias.Torch;
using LowRankBias.Torch.Models;
using static LowRankBias.Torch.torch;

namespace LowRankBias.Samples.TransferLearning;

/// <summary>
/// ML.NET's ImageNet ResNet-18 (package Microsoft.ML.DnnImageFeaturizer.ResNet18: a CNTK export with 512-d pooled
/// features and no classifier) and the featurizer's own preprocessing (ResNetPreprocess.onnx: RGB pixels in [0, 255]
/// reordered to BGR, minus a 224×224 mean image).
/// </summary>
internal sealed class Pretrained : IDisposable
{
    /// <summary>The folder of the package's models, as restored by NuGet.</summary>
    public static string DefaultFolder => typeof(Pretrained).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "DnnImageModels").Value!;

    private Pretrained(OrderedDictionary<string, Tensor> backbone, Tensor meanImage)
    {
        Backbone = backbone;
        MeanImage = meanImage;
    }

    /// <summary>Every tensor of the pretrained network but the classifier, under torchvision's ResNet-18 names.</summary>
    public OrderedDictionary<string, Tensor> Backbone { get; }

    /// <summary>The featurizer's mean image [1, 3, 224, 224] (BGR, pixel scale).</summary>
    public Tensor MeanImage { get; }

    /// <summary>Loads both graphs from <paramref name="folder"/> (ResNet18Onnx/ResNet18.onnx, ResNetPrepOnnx/ResNetPreprocess.onnx).</summary>
    public static Pretrained Load(string folder)
    {
        string network = Path.Combine(folder, "ResNet18Onnx", "ResNet18.onnx"), preprocess = Path.Combine(folder, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        foreach (string file in new[] { network, preprocess })
            if (!File.Exists(file)) throw new FileNotFoundException($"--models {folder}: no {Path.GetRelativePath(folder, file)} (restore the Microsoft.ML.DnnImageFeaturizer.ResNet18 package)", file);
        Tensor mean;
        using (OnnxModel prep = OnnxModel.load(preprocess))
        {
            OnnxInitializer image = prep.initializers.SingleOrDefault(i => i.name == "MeanImage")
                ?? throw new InvalidDataException($"{preprocess}: no MeanImage initializer");
            mean = prep.state_dict()[image.state_key].detach().clone().reshape(1, 3, 224, 224);
        }
        // ===== THE ONE PLACE THE PRETRAINED WEIGHTS ARE LOADED =====
        // PENDING wave2-onnxexport's mapping of ResNet18.onnx onto torchvision's ResNet-18: until it lands this is a
        // randomly initialised ResNet-18, so "pretrained" rows mean nothing yet.
        manual_seed(12345);
        using ResNet net = ResNet.resnet18(num_classes: 10);
        var backbone = new OrderedDictionary<string, Tensor>();
        foreach ((string key, Tensor value) in net.state_dict())
            if (!key.StartsWith("fc.", StringComparison.Ordinal)) backbone.Add(key, value.detach().clone());
        return new Pretrained(backbone, mean);
    }

    /// <summary>
    /// Fashion-MNIST images [N, 1, 28, 28] in [0, 1] as the network sees them: upsampled by an integer factor (nearest,
    /// 28 → <paramref name="size"/>), grey repeated to three channels (so the RGB → BGR reordering changes nothing),
    /// scaled to [0, 255] and minus the mean image averaged down to <paramref name="size"/>².
    /// </summary>
    public Tensor Prepare(Tensor images, long size)
    {
        long f = size / 28, n = images.size(0);
        using var scope = NewDisposeScope();
        Tensor up = images.reshape(n, 1, 28, 1, 28, 1).expand(n, 1, 28, f, 28, f).reshape(n, 1, size, size);
        Tensor mean = nn.functional.adaptive_avg_pool2d(MeanImage, [size, size]);
        return (up.expand(n, 3, size, size) * 255 - mean).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (Tensor t in Backbone.Values) t.Dispose();
        MeanImage.Dispose();
    }
}
