using System.Buffers.Binary;
using System.Text.Json.Nodes;
using LowRankBias.Torch.IO;
using LowRankBias.Torch.Optim;
using LowRankBias.Torch.Tests.Data;
using LowRankBias.Torch.Training;

namespace LowRankBias.Torch.Tests.Training;

// A restore is all or nothing: every tensor of the model and the optimizer state, and every counter, is checked
// before anything changes; damaged bytes are caught by the per-tensor checksums.
public partial class CheckpointFileTests
{
    // A trained setup's checkpoint, loaded back from a file, and a differently trained target to restore it into.
    private sealed class RestoreCase : IDisposable
    {
        public RestoreCase(TempFolder folder, Action<Checkpoint>? damage = null)
        {
            Path = System.IO.Path.Combine(folder.Path, "run.safetensors");
            manual_seed(1);
            using (var source = new Setup())
            {
                source.Train(2);
                using Checkpoint checkpoint = Checkpoint.Capture(source.Model, source.Optimizer);
                checkpoint.Step = 2;
                damage?.Invoke(checkpoint);
                checkpoint.Save(Path);
            }
            manual_seed(2);
            Target = new Setup();
            Target.Train(3);
            Weight = Target.Model.weight.ToArray<double>();
            using OptimizerStateDict state = Target.Optimizer.state_dict();
            ExpAvg = state.state[0].tensors["exp_avg"].ToArray<double>();
            Steps = state.state.Values.Select(s => s.step).ToArray();
        }

        public string Path { get; }
        public Setup Target { get; }
        public double[] Weight { get; }
        public double[] ExpAvg { get; }
        public long[] Steps { get; }

        // Restoring must fail naming the file and what, and leave the target exactly as it was, able to train on.
        public InvalidDataException RestoreFails(Action<Checkpoint>? damageLoaded = null)
        {
            using Checkpoint loaded = Checkpoint.Load(Path);
            damageLoaded?.Invoke(loaded);
            InvalidDataException error = Assert.Throws<InvalidDataException>(() => loaded.Restore(Target.Model, Target.Optimizer));
            Assert.Contains(Path, error.Message);
            Assert.Equal(Weight, Target.Model.weight.ToArray<double>());
            using (OptimizerStateDict state = Target.Optimizer.state_dict())
            {
                Assert.Equal(ExpAvg, state.state[0].tensors["exp_avg"].ToArray<double>());
                Assert.Equal(Steps, state.state.Values.Select(s => s.step));
            }
            Target.Train(1);
            return error;
        }

        public void Dispose() => Target.Dispose();
    }

    private static void Replace(OrderedDictionary<string, Tensor> tensors, string key, Tensor value)
    {
        tensors[key].Dispose();
        tensors[key] = value.DetachFromDisposeScope();
    }

    [Fact]
    public void OptimizerTensorOfTheWrongShapeIsRefusedBeforeAnythingChanges()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        using var test = new RestoreCase(folder, c => Replace(c.Optimizer!.state[0].tensors, "exp_avg", zeros([2, 5], ScalarType.Float64)));

        InvalidDataException error = test.RestoreFails();

        Assert.Contains("parameter 0", error.Message);
        Assert.Contains("'exp_avg' has shape [2, 5]", error.Message);
        Assert.Contains("[2, 3]", error.Message);
    }

    [Fact]
    public void OptimizerTensorOfAnIntegerDtypeOrWithNaNIsRefused()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        using var integer = new RestoreCase(folder, c => Replace(c.Optimizer!.state[1].tensors, "exp_avg_sq", zeros([2], ScalarType.Int32)));
        Assert.Contains("'exp_avg_sq' has dtype Int32", integer.RestoreFails().Message);

        using var nan = new RestoreCase(folder, c => Replace(c.Optimizer!.state[0].tensors, "exp_avg", full([2, 3], double.NaN, ScalarType.Float64)));
        Assert.Contains("'exp_avg' holds NaN or infinite values", nan.RestoreFails().Message);
    }

    [Fact]
    public void NegativeStepCountsAreRefused()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        using var checkpointStep = new RestoreCase(folder, c => c.Step = -5);
        Assert.Contains("step -5", checkpointStep.RestoreFails().Message);

        using var parameterStep = new RestoreCase(folder, c => c.Optimizer!.state[1].step = -5);
        InvalidDataException error = parameterStep.RestoreFails();
        Assert.Contains("parameter 1", error.Message);
        Assert.Contains("step -5", error.Message);
    }

    [Fact]
    public void ModelTensorOfAnotherDtypeOrWithNaNIsRefused()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        using var integer = new RestoreCase(folder, c => Replace(c.Model, "weight", ones([2, 3], ScalarType.Int32)));
        InvalidDataException error = integer.RestoreFails();
        Assert.Contains("'weight'", error.Message);
        Assert.Contains("Int32", error.Message);
        Assert.Contains("Float64", error.Message);

        using var nan = new RestoreCase(folder, c => Replace(c.Model, "bias", tensor(new[] { 1.0, double.NaN })));
        Assert.Contains("'bias' holds NaN or infinite values", nan.RestoreFails().Message);
    }

    // A buffer may hold ±∞ by design (an additive attention mask); only parameters are refused for non-finite values.
    private sealed class Masked : LowRankBias.Torch.Modules.Module
    {
        public Masked(double fill)
        {
            register_module("linear", new LowRankBias.Torch.Modules.Linear(3, 2, dtype: ScalarType.Float64));
            register_buffer("mask", full([2, 2], fill, ScalarType.Float64).triu(1));
        }
    }

    [Fact]
    public void BuffersHoldingInfinityRestore()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        string path = System.IO.Path.Combine(folder.Path, "masked.safetensors");
        using (var source = new Masked(double.NegativeInfinity))
        using (Checkpoint checkpoint = Checkpoint.Capture(source))
            checkpoint.Save(path);
        using var target = new Masked(0);
        using (Checkpoint loaded = Checkpoint.Load(path)) loaded.Restore(target);
        Assert.Equal(double.NegativeInfinity, target.state_dict()["mask"].ToArray<double>()[1]);
    }

    [Fact]
    public void FlippedDataByteIsFoundByItsChecksumNamingTheTensor()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        using var test = new RestoreCase(folder);
        byte[] bytes = File.ReadAllBytes(test.Path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        JsonNode header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))!;
        long begin = header["optim.1.exp_avg"]!["data_offsets"]![0]!.GetValue<long>();
        bytes[8 + headerLength + begin + 3] ^= 0x10; // one bit of the first element's mantissa
        File.WriteAllBytes(test.Path, bytes);

        InvalidDataException error = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(test.Path));

        Assert.Contains(test.Path, error.Message);
        Assert.Contains("'optim.1.exp_avg'", error.Message);
        Assert.Contains("checksum", error.Message);
    }

    [Fact]
    public void CheckpointsOfFormatOneWithoutChecksumsStillLoadAndUnknownVersionsAreNamed()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        using var test = new RestoreCase(folder);
        string json = SafeTensors.load_metadata(test.Path)[CheckpointMetadataKey];
        JsonObject header = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(2, header["format"]!.GetValue<int>());
        Assert.Equal(9, header["crc32c"]!.AsObject().Count); // every tensor: 2 model, 6 optimizer, rng

        void Rewrite(string path, int format)
        {
            header["format"] = format;
            header.Remove("crc32c");
            Dictionary<string, Tensor> tensors = SafeTensors.load_file(test.Path);
            SafeTensors.save_file(tensors, path, new Dictionary<string, string> { [CheckpointMetadataKey] = header.ToJsonString() });
        }
        string old = Path.Combine(folder.Path, "format1.safetensors");
        Rewrite(old, 1);
        using (Checkpoint loaded = Checkpoint.Load(old)) loaded.Restore(test.Target.Model, test.Target.Optimizer);

        string future = Path.Combine(folder.Path, "format3.safetensors");
        Rewrite(future, 3);
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => Checkpoint.Load(future));
        Assert.Contains("format version 3", error.Message);
    }

    [Fact]
    public void ChecksumsAreTheCrc32cOfEachTensorsStoredBytes()
    {
        using var scope = NewDisposeScope();
        using var folder = new TempFolder();
        using var test = new RestoreCase(folder);
        byte[] bytes = File.ReadAllBytes(test.Path);
        long headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        JsonObject header = JsonNode.Parse(bytes.AsSpan(8, (int)headerLength))!.AsObject();
        JsonObject checksums = JsonNode.Parse(header["__metadata__"]![CheckpointMetadataKey]!.GetValue<string>())!["crc32c"]!.AsObject();

        Assert.Equal(0xE3069283u, BitwiseCrc32C("123456789"u8)); // the published CRC-32C check value
        foreach ((string name, JsonNode? entry) in header.Where(p => p.Key != "__metadata__"))
        {
            long begin = entry!["data_offsets"]![0]!.GetValue<long>(), end = entry["data_offsets"]![1]!.GetValue<long>();
            uint crc = BitwiseCrc32C(bytes.AsSpan((int)(8 + headerLength + begin), (int)(end - begin)));
            Assert.Equal(crc, checksums[name]!.GetValue<uint>());
        }
    }

    // CRC-32C bit by bit from its reflected polynomial, independent of the library's table-free hardware path.
    private static uint BitwiseCrc32C(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }

    private const string CheckpointMetadataKey = "lowrankbias.checkpoint";
}
