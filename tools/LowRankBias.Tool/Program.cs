// lowrankbias — command-line tools over checkpoints. `lowrankbias spectra model.safetensors` prints every weight
// matrix's stable rank, effective rank, power-law α and norms; `lowrankbias analyze model.safetensors` WeightWatcher's
// metrics; both write CSV, JSON and plots (out/<command>/<file>/).
using System.CommandLine;
using System.Globalization;
using LowRankBias.Samples;
using LowRankBias.Tool;
using LowRankBias.Tool.Analysis;

var file = new Argument<FileInfo>("file") { Description = "checkpoint: .safetensors (memory-mapped) or a torch.save file (.pt, .pth, .bin)" };
var output = new Option<DirectoryInfo?>("--out") { Description = "output folder (default: out/<command>/<file name>)" };
// A value that is no number is already a parse error (and has no value to read): only a number's range is checked here.
Option<int> Positive(string name, int defaultValue, string description)
{
    var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
    option.Validators.Add(r =>
    {
        if (r.Tokens is [var token] && int.TryParse(token.Value, CultureInfo.InvariantCulture, out int value) && value < 1) r.AddError($"{name}: {value} is not a positive number");
    });
    return option;
}
int Report(string command, Func<int> run)
{
    try
    {
        return run();
    }
    catch (Exception e) when (ProgramCommand.Expected(e))
    {
        Console.Error.WriteLine($"lowrankbias {command}: {e.Message}");
        return 1;
    }
}
string Folder(ParseResult parse, string command, FileInfo path) =>
    parse.GetValue(output)?.FullName ?? Path.Combine("out", command, Path.GetFileNameWithoutExtension(path.Name));

var minDimension = Positive("--min-dim", 2, "skip matrices with a side shorter than this");
var spectra = new Command("spectra", "per-layer stable rank, effective rank, power-law α and norms of a checkpoint's weight matrices") { file, output, minDimension };
spectra.SetAction(parse =>
{
    FileInfo path = parse.GetValue(file)!;
    return Report("spectra", () => Spectra.Run(path.FullName, Folder(parse, "spectra", path), parse.GetValue(minDimension)));
});

var minEvals = Positive("--min-evals", 10, "skip layers with fewer eigenvalues M·rf (WeightWatcher's min_evals)");
var maxEvals = Positive("--max-evals", 15000, "skip layers with more eigenvalues M·rf (WeightWatcher's max_evals)");
var randomize = new Option<bool>("--randomize") { Description = "also the ESD of the shuffled weights: rand_distance and correlation traps (rand_num_spikes)" };
var noPlots = new Option<bool>("--no-plots") { Description = "skip the per-layer ESD plots (esd/)" };
var seed = new Option<int>("--seed") { Description = "seed of the shuffles of --randomize", DefaultValueFactory = _ => 0 };
var analyze = new Command("analyze", "WeightWatcher's per-layer metrics (alpha, alpha_weighted, log norms, stable rank, MP fit) and their summary")
    { file, output, minEvals, maxEvals, randomize, noPlots, seed };
analyze.Validators.Add(r =>
{
    if (r.GetValue(minEvals) > r.GetValue(maxEvals)) r.AddError($"--min-evals {r.GetValue(minEvals)} exceeds --max-evals {r.GetValue(maxEvals)}");
});
analyze.SetAction(parse =>
{
    FileInfo path = parse.GetValue(file)!;
    var options = new AnalyzeCommand.Options(parse.GetValue(minEvals), parse.GetValue(maxEvals), parse.GetValue(randomize), !parse.GetValue(noPlots), parse.GetValue(seed));
    return Report("analyze", () => AnalyzeCommand.Run(path.FullName, Folder(parse, "analyze", path), options));
});

var root = new RootCommand("lowrankbias: weight analysis of checkpoints") { spectra, analyze };
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // All on one line: for a mistyped command the useful error ("Unrecognized command or argument") comes second.
    Console.Error.WriteLine($"lowrankbias: {string.Join(" ", parsed.Errors.Select(e => e.Message))} (see --help)");
    return 1;
}
return parsed.Invoke();
