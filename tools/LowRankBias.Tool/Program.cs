// lowrankbias — command-line tools over checkpoints. `lowrankbias spectra model.safetensors` prints every weight
// matrix's stable rank, effective rank, power-law α and norms, and writes CSV, JSON and plots (out/spectra/<file>/).
using System.CommandLine;
using System.Globalization;
using LowRankBias.Samples;
using LowRankBias.Tool;

var file = new Argument<FileInfo>("file") { Description = "checkpoint: .safetensors (memory-mapped), a torch.save file (.pt, .pth, .bin) or an ONNX model (.onnx: its initializers)" };
var output = new Option<DirectoryInfo?>("--out") { Description = "output folder (default: out/spectra/<file name>)" };
var minDimension = new Option<int>("--min-dim") { Description = "skip matrices with a side shorter than this", DefaultValueFactory = _ => 2 };
// A value that is no number is already a parse error (and has no value to read): only a number's range is checked here.
minDimension.Validators.Add(r =>
{
    if (r.Tokens is [var token] && int.TryParse(token.Value, CultureInfo.InvariantCulture, out int value) && value < 1) r.AddError($"--min-dim: {value} is not a positive number");
});
var spectra = new Command("spectra", "per-layer stable rank, effective rank, power-law α and norms of a checkpoint's weight matrices") { file, output, minDimension };
spectra.SetAction(parse =>
{
    FileInfo path = parse.GetValue(file)!;
    string folder = parse.GetValue(output)?.FullName ?? Path.Combine("out", "spectra", Path.GetFileNameWithoutExtension(path.Name));
    try
    {
        return Spectra.Run(path.FullName, folder, parse.GetValue(minDimension));
    }
    catch (Exception e) when (ProgramCommand.Expected(e))
    {
        Console.Error.WriteLine($"lowrankbias spectra: {e.Message}");
        return 1;
    }
});
var root = new RootCommand("lowrankbias: weight analysis of checkpoints") { spectra };
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // All on one line: for a mistyped command the useful error ("Unrecognized command or argument") comes second.
    Console.Error.WriteLine($"lowrankbias: {string.Join(" ", parsed.Errors.Select(e => e.Message))} (see --help)");
    return 1;
}
return parsed.Invoke();
