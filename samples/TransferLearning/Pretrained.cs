using System.Reflection;
using LowRankBias.Onnx;

namespace LowRankBias.Samples.TransferLearning;

/// <summary>
/// ML.NET's ImageNet ResNet-18 (package Microsoft.ML.DnnImageFeaturizer.ResNet18: a CNTK export with 512-d pooled
/// features and no classifier) mapped onto torchvision's ResNet-18 (<see cref="OnnxResNet.load"/>), and the
/// featurizer's own preprocessing (ResNetPreprocess.onnx: RGB pixels in [0, 255] reordered to BGR, minus the ImageNet
/// mean image), here with the mean image averaged per channel since the images are not 224×224.
/// </summary>
internal sealed class Pretrained : IDisposable
{
    /// <summary>The folder of the package's models, as restored by NuGet.</summary>
    public static string DefaultFolder => typeof(Pretrained).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "DnnImageModels").Value!;

    private readonly ImagePreprocess _preprocess;

    private Pretrained(ResNet.Config config, OrderedDictionary<string, Tensor> backbone, ImagePreprocess preprocess)
    {
        Config = config;
        Backbone = backbone;
        _preprocess = preprocess;
    }

    /// <summary>
    /// The network's architecture as read from the file: not quite torchvision's ResNet-18, since this export has three
    /// blocks in its last stage ([2, 2, 2, 3], 22 convolutions); no classifier.
    /// </summary>
    public ResNet.Config Config { get; }

    /// <summary>Every tensor of the pretrained network (no classifier), under torchvision's ResNet-18 names.</summary>
    public OrderedDictionary<string, Tensor> Backbone { get; }

    /// <summary>Loads both graphs from <paramref name="folder"/> (ResNet18Onnx/ResNet18.onnx, ResNetPrepOnnx/ResNetPreprocess.onnx).</summary>
    public static Pretrained Load(string folder)
    {
        string network = Path.Combine(folder, "ResNet18Onnx", "ResNet18.onnx"), preprocess = Path.Combine(folder, "ResNetPrepOnnx", "ResNetPreprocess.onnx");
        foreach (string file in new[] { network, preprocess })
            if (!File.Exists(file)) throw new FileNotFoundException($"--models {folder}: no {Path.GetRelativePath(folder, file)} (restore the Microsoft.ML.DnnImageFeaturizer.ResNet18 package)", file);
        using ResNet net = OnnxResNet.load(network);
        var backbone = new OrderedDictionary<string, Tensor>();
        foreach ((string key, Tensor value) in net.state_dict()) backbone.Add(key, value.detach().clone());
        using ImagePreprocess full = OnnxResNet.load_preprocess(preprocess);
        return new Pretrained(net.config, backbone, full.per_channel());
    }

    /// <summary>
    /// Fashion-MNIST images [N, 1, 28, 28] in [0, 1] as the network sees them, <paramref name="size"/>² (a multiple of
    /// 32, so every strided layer sees an even size and CNTK's asymmetric padding is torchvision's): upsampled by the
    /// largest integer factor that fits (nearest), zero-padded (the images' black background) to the size, grey
    /// repeated to three channels, scaled to [0, 255], then the featurizer's preprocessing.
    /// </summary>
    public Tensor Prepare(Tensor images, long size)
    {
        long f = size / 28, n = images.size(0), side = 28 * f, before = (size - side) / 2, after = size - side - before;
        using var scope = NewDisposeScope();
        Tensor up = images.reshape(n, 1, 28, 1, 28, 1).expand(n, 1, 28, f, 28, f).reshape(n, 1, side, side);
        Tensor padded = nn.functional.pad(up, [before, after, before, after]);
        return _preprocess.call(padded.expand(n, 3, size, size) * 255).MoveToOuterDisposeScope();
    }

    public void Dispose()
    {
        foreach (Tensor t in Backbone.Values) t.Dispose();
        _preprocess.Dispose();
    }
}
