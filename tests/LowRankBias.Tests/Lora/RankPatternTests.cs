using LowRankBias.Lora;

namespace LowRankBias.Tests.Lora;

/// <summary>rank_pattern / alpha_pattern against PEFT's get_pattern_key: first key in order whose (.*\.)?(key)$ matches.</summary>
public sealed class RankPatternTests
{
    private static Dictionary<string, int> Ranks(LoraConfig config)
    {
        using var lora = new LoraModel(new TokenNet(), config);
        return lora.lora_layers().ToDictionary(l => l.path, l => l.layer.r["default"]);
    }

    [Fact]
    public void TheFirstMatchingKeyInOrderWinsAndKeysAddNoTargets()
    {
        // PEFT iterates the keys in order: a general key before an exact one wins.
        var generalFirst = new LoraConfig { r = 2, target_modules = new[] { "fc1" }, rank_pattern = new Dictionary<string, int> { ["fc1"] = 3, ["blocks.0.fc1"] = 4, [@"fc\d"] = 5 } };
        Assert.Equal(new Dictionary<string, int> { ["blocks.0.fc1"] = 3, ["blocks.1.fc1"] = 3 }, Ranks(generalFirst));
        var exactFirst = generalFirst with { rank_pattern = new Dictionary<string, int> { ["blocks.0.fc1"] = 4, ["fc1"] = 3 } };
        Assert.Equal(new Dictionary<string, int> { ["blocks.0.fc1"] = 4, ["blocks.1.fc1"] = 3 }, Ranks(exactFirst));

        // A key is matched against the whole path's end at a dot boundary; '^' anchors at the start of the path.
        var config = new LoraConfig { alpha_pattern = new Dictionary<string, double> { [@"^blocks\.1\.fc2"] = 6, ["c2"] = 7, ["fc2"] = 5 } };
        Assert.Equal(6, config.ForModule("blocks.1.fc2").lora_alpha);
        Assert.Equal(5, config.ForModule("blocks.0.fc2").lora_alpha);   // "c2" does not end at a dot boundary
        Assert.Equal(5, config.ForModule("x.blocks.1.fc2").lora_alpha);  // '^' fails after a prefix
        Assert.Equal(config.lora_alpha, config.ForModule("head").lora_alpha);
    }

    [Fact]
    public void TheOrderOfTheKeysSurvivesAdapterConfigJson()
    {
        foreach ((string json, int expected) in new[] { (@"{""fc1"": 3, ""blocks.0.fc1"": 4}", 3), (@"{""blocks.0.fc1"": 4, ""fc1"": 3}", 4) })
        {
            LoraConfig read = LoraConfig.from_json_string(
                """{"peft_type": "LORA", "r": 2, "lora_alpha": 2, "target_modules": ["fc1"], "alpha_pattern": {"fc1": 8}, "rank_pattern": """ + json + "}");
            Assert.Equal(expected, read.ForModule("blocks.0.fc1").r);
            LoraConfig back = LoraConfig.from_json_string(read.to_json_string());
            Assert.Equal(read.rank_pattern.Keys, back.rank_pattern.Keys);
            Assert.Equal(expected, back.ForModule("blocks.0.fc1").r);
            Assert.Equal(8, back.ForModule("blocks.0.fc1").lora_alpha);
        }
    }
}
