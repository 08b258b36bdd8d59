using System.Reflection;
using LowRankBias.Lora;
using LowRankBias.Torch;

namespace LowRankBias.Tests.Packaging;

/// <summary>
/// The packages' public API is listed in src/&lt;Project&gt;/PublicAPI.txt; a change to it (an accidental breaking change,
/// or an addition not yet recorded) fails here. After a deliberate change, regenerate the files with
/// <c>LRB_UPDATE_PUBLIC_API=1 dotnet test tests/LowRankBias.Tests --filter PublicApi</c>, review the diff, note it in
/// CHANGELOG.md and bump the version (semantic versioning) when something was removed or changed.
/// </summary>
public class PublicApiTests
{
    public static TheoryData<string> Assemblies => new() { "LowRankBias", "LowRankBias.Torch", "LowRankBias.Onnx" };

    [Theory]
    [MemberData(nameof(Assemblies))]
    public void The_public_api_matches_the_recorded_list(string project)
    {
        Assembly assembly = project switch
        {
            "LowRankBias" => typeof(LoraModel).Assembly,
            "LowRankBias.Onnx" => typeof(LowRankBias.Onnx.OnnxModel).Assembly,
            _ => typeof(Tensor).Assembly,
        };
        IReadOnlyList<string> actual = PublicApi.Lines(assembly);
        string file = Path.Combine(RepositoryRoot(), "src", project, "PublicAPI.txt");
        if (Environment.GetEnvironmentVariable("LRB_UPDATE_PUBLIC_API") == "1")
            File.WriteAllLines(file, actual);

        Assert.True(File.Exists(file), $"{file} is missing; create it with LRB_UPDATE_PUBLIC_API=1");
        string[] recorded = File.ReadAllLines(file);
        string[] added = actual.Except(recorded).ToArray(), removed = recorded.Except(actual).ToArray();
        Assert.True(added.Length == 0 && removed.Length == 0,
            $"the public API of {project} differs from {file}:\n" +
            string.Join('\n', removed.Take(25).Select(l => "- " + l).Concat(added.Take(25).Select(l => "+ " + l))) +
            "\nIf the change is deliberate, regenerate the file with LRB_UPDATE_PUBLIC_API=1 and record it in CHANGELOG.md.");
    }

    [Fact]
    public void The_listing_names_members_with_their_signatures()
    {
        IReadOnlyList<string> lines = PublicApi.Lines(typeof(LoraModel).Assembly);
        Assert.Contains("sealed class LowRankBias.Lora.LoraModel : LowRankBias.Torch.Modules.Module", lines);
        Assert.Contains(lines, l => l.StartsWith("LowRankBias.Lora.LoraModel.save_pretrained(string save_directory, IReadOnlyList<string> selected_adapters = null, string path_initial_model_for_weight_conversion = null) -> void", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("LoraModel.Pretrained", StringComparison.Ordinal));  // no file names or internals
        Assert.DoesNotContain(lines, l => l.Contains('<') && l.Contains(">$", StringComparison.Ordinal));  // no compiler-generated members
        // Auto-properties (their accessors are compiler-generated) are listed, records' compiler-made members are not.
        Assert.Contains("LowRankBias.Lora.LoraConfig.r : int { get; init; }", lines);
        Assert.DoesNotContain(lines, l => l.Contains(".EqualityContract", StringComparison.Ordinal));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "LowRankBias.sln"))) return dir.FullName;
        throw new InvalidOperationException($"no LowRankBias.sln above {AppContext.BaseDirectory}");
    }
}
