namespace LowRankBias.Cli.Tests.CommandLine;

/// <summary>A program of subcommands on <see cref="ProgramCommand"/>, as the lowrankbias tool declares its own: what
/// each input prints on stderr and returns.</summary>
public sealed class ProgramCommandTests
{
    // "tool spectra FILE [--min-dim N]": the action records what it was given, or throws what the file name says.
    private static (int code, string error, string? ran) Run(params string[] args)
    {
        var cli = new ProgramCommand("tool", "a program of commands");
        var spectra = cli.Subcommand("spectra", "one command");
        var file = spectra.Required<string>("file", "input");
        var minDimension = spectra.Positive("--min-dim", 2, "smallest side");
        string? ran = null;
        spectra.SetAction(parse =>
        {
            string name = parse.GetValue(file)!;
            if (name == "bad") throw new ArgumentException("bad: not a checkpoint", nameof(file));
            if (name == "bug") throw new InvalidCastException("a bug keeps its type");
            ran = $"{name} {parse.GetValue(minDimension)} {spectra.OutputPath(parse, name)}";
            return 0;
        });
        TextWriter before = Console.Error;
        var error = new StringWriter();
        Console.SetError(error);
        try { return (cli.Invoke(args), error.ToString(), ran); }
        finally { Console.SetError(before); }
    }

    [Fact]
    public void ACommandRunsWithItsDefaultsAndItsOwnOutputFolder()
    {
        Assert.Equal((0, "", $"m.pt 2 {Path.Combine("out", "spectra", "m.pt")}"), Run("spectra", "m.pt"));
        Assert.Equal((0, "", "m.pt 3 elsewhere"), Run("spectra", "m.pt", "--min-dim", "3", "--out", "elsewhere"));
    }

    [Theory]
    [InlineData(new[] { "spectrum", "m.pt" }, "tool: unknown option or argument 'spectrum' (did you mean spectra?); see --help")]
    [InlineData(new[] { "spectra", "m.pt", "--min-dm", "3" }, "tool: unknown option or argument '--min-dm' (did you mean --min-dim?); see --help")]
    [InlineData(new[] { "spectra", "m.pt", "--min-dim", "0" }, "tool: --min-dim: 0 is not a positive number; see --help")]
    [InlineData(new[] { "spectra", "bad" }, "tool spectra: bad: not a checkpoint (Parameter 'file')")]
    public void BadInputIsOneLineAndExitCodeOne(string[] args, string line)
    {
        (int code, string error, string? ran) = Run(args);
        Assert.Equal(1, code);
        Assert.Equal(line + Environment.NewLine, error);
        Assert.Null(ran);
    }

    [Fact]
    public void AnUnexpectedExceptionIsNotTakenForBadInput()
    {
        // Not one of ProgramCommand.Expected: System.CommandLine's handler reports it with its stack trace.
        (int code, string error, _) = Run("spectra", "bug");
        Assert.Equal(1, code);
        Assert.Contains("InvalidCastException", error);
        Assert.Contains("   at ", error);
    }
}
