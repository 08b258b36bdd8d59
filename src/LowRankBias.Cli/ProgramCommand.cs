using System.CommandLine;
using System.Globalization;
using System.CommandLine.Parsing;

namespace LowRankBias.Cli;

/// <summary>
/// The command line of a sample or tool, on System.CommandLine: <c>--help</c> prints usage with every default and
/// allowed value and runs nothing; an unknown option or a bad value ends the process with exit code 1 and one line on
/// stderr (with "did you mean" where a known name or value is close); so does any of <see cref="Expected"/> raised
/// later — bad input, a file that cannot be read or written, a failed distributed job — since each has a message that
/// says what went wrong and a stack trace would add nothing. Results go to <c>out/&lt;program&gt;/</c> unless
/// <c>--out</c> says otherwise. A program of several commands (<c>lowrankbias spectra|analyze|compare</c>) declares
/// each with <see cref="Subcommand"/> and runs with <see cref="Invoke"/>; each command has its own <c>--out</c>.
/// </summary>
public sealed class ProgramCommand
{
    private readonly Command command;
    private readonly Option<string?> output;
    private readonly ProgramCommand? parent;

    /// <summary>The program's name, as in <c>out/&lt;Name&gt;/</c> and its messages (a subcommand's own name).</summary>
    public string Name { get; }

    // "lowrankbias spectra": how messages name a subcommand.
    private string Display => parent is null ? Name : $"{parent.Display} {Name}";

    /// <param name="name">Short lower-case name (the default output folder is <c>out/&lt;name&gt;</c>).</param>
    /// <param name="description">What the program does, the first lines of <c>--help</c>.</param>
    public ProgramCommand(string name, string description) : this(name, new RootCommand(description), null)
    {
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (e.ExceptionObject is not Exception error || !Expected(error)) return;
            Console.Error.WriteLine($"{Name}: {error.Message}");
            Environment.Exit(1);
        };
    }

    private ProgramCommand(string name, Command command, ProgramCommand? parent)
    {
        Name = name;
        this.command = command;
        this.parent = parent;
        output = new Option<string?>("--out") { Description = $"Folder for results [default: out/{name}/...]", HelpName = "DIR" };
        command.Options.Add(output);
    }

    /// <summary>
    /// A command of this program (<c>lowrankbias spectra</c>), with options and arguments of its own, <c>--out</c>
    /// defaulting to <c>out/&lt;name&gt;/</c>, and the action <see cref="SetAction"/> gives it. The program itself then
    /// writes nothing: it loses its own <c>--out</c>.
    /// </summary>
    public ProgramCommand Subcommand(string name, string description)
    {
        command.Options.Remove(output);
        var sub = new Command(name, description);
        command.Subcommands.Add(sub);
        return new ProgramCommand(name, sub, this);
    }

    /// <summary>What the command runs; it returns the exit code. One of <see cref="Expected"/> ends it with exit code 1
    /// and one line naming the command.</summary>
    public void SetAction(Func<ParseResult, int> run)
    {
        ArgumentNullException.ThrowIfNull(run);
        command.SetAction(parsed =>
        {
            try
            {
                return run(parsed);
            }
            catch (Exception e) when (Expected(e))
            {
                Console.Error.WriteLine($"{Display}: {e.Message}");
                return 1;
            }
        });
    }

    /// <summary>
    /// The failures a program reports in one line and exit code 1: bad arguments, unreadable or malformed input,
    /// outputs that cannot be written (no such folder, no permission, a full disk: all <see cref="IOException"/>s), and
    /// distributed jobs that fail (a peer died, ranks disagree). Anything else is a bug and keeps its stack trace.
    /// </summary>
    public static bool Expected(Exception error) =>
        error is ArgumentException or IOException or UnauthorizedAccessException or InvalidDataException or Torch.Distributed.DistributedException;

    /// <summary>An option with a default value, shown in <c>--help</c>.</summary>
    public Option<T> Add<T>(string name, T defaultValue, string description)
    {
        var option = new Option<T>(name) { Description = description, DefaultValueFactory = _ => defaultValue };
        command.Options.Add(option);
        return option;
    }

    /// <summary>An option without a default: absent means null.</summary>
    public Option<T?> Optional<T>(string name, string description, string? helpName = null)
    {
        var option = new Option<T?>(name) { Description = description };
        if (helpName is not null) option.HelpName = helpName;
        command.Options.Add(option);
        return option;
    }

    /// <summary>A switch (present: true).</summary>
    public Option<bool> Flag(string name, string description)
    {
        var option = new Option<bool>(name) { Description = description };
        command.Options.Add(option);
        return option;
    }

    /// <summary>A whole number of at least 1 (a value that is no number is already a parse error).</summary>
    public Option<int> Positive(string name, int defaultValue, string description)
    {
        Option<int> option = Add(name, defaultValue, description);
        option.Validators.Add(r =>
        {
            if (r.Tokens is [var token] && int.TryParse(token.Value, CultureInfo.InvariantCulture, out int value) && value < 1)
                r.AddError($"{name}: {value} is not a positive number");
        });
        return option;
    }

    /// <summary>A positional argument that must be given.</summary>
    public Argument<T> Required<T>(string name, string description)
    {
        var argument = new Argument<T>(name) { Description = description };
        command.Arguments.Add(argument);
        return argument;
    }

    /// <summary>An option that takes one of <paramref name="allowed"/> (listed in <c>--help</c>).</summary>
    public Option<string> Choice(string name, string defaultValue, string description, params string[] allowed)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = string.Join('|', allowed) };
        option.Validators.Add(r => CheckChoice(r, name, r.GetValueOrDefault<string>(), allowed));
        command.Options.Add(option);
        return option;
    }

    /// <summary>A comma-separated list whose items are each one of <paramref name="allowed"/>.</summary>
    public Option<string[]> Choices(string name, string[] defaultValue, string description, params string[] allowed)
    {
        var option = new Option<string[]>(name)
        {
            Description = description, DefaultValueFactory = _ => defaultValue, HelpName = string.Join(',', allowed),
            CustomParser = r => r.Tokens.SelectMany(t => t.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
        };
        option.Validators.Add(r =>
        {
            foreach (string value in r.GetValueOrDefault<string[]>() ?? []) CheckChoice(r, name, value, allowed);
        });
        command.Options.Add(option);
        return option;
    }

    /// <summary>An optional positional argument that takes one of <paramref name="allowed"/>.</summary>
    public Argument<string> Positional(string name, string defaultValue, string description, params string[] allowed)
    {
        var argument = new Argument<string>(name)
        {
            Description = description, DefaultValueFactory = _ => defaultValue, HelpName = string.Join('|', allowed), Arity = ArgumentArity.ZeroOrOne,
        };
        argument.Validators.Add(r =>
        {
            // An unknown option lands here as the positional value: name it as what it is.
            if (r.GetValueOrDefault<string>() is { } value && value.StartsWith('-')) r.AddError(Unknown(value));
            else CheckChoice(r, name, r.GetValueOrDefault<string>(), allowed);
        });
        command.Arguments.Add(argument);
        return argument;
    }

    /// <summary>
    /// Parses <paramref name="args"/>; returns only when the program should run. Help exits 0, errors exit 1 with
    /// one line each.
    /// </summary>
    public ParseResult Parse(string[] args)
    {
        ParseResult result = command.Parse(args);
        if (Failed(result)) Environment.Exit(1);
        if (result.Action is not null) Environment.Exit(result.Invoke());
        return result;
    }

    /// <summary>Parses <paramref name="args"/> and runs the command they name (or help); returns the exit code, 1 after
    /// one line on stderr for a parse error.</summary>
    public int Invoke(string[] args) => command.Parse(args) is var result && Failed(result) ? 1 : result.Invoke();

    private bool Failed(ParseResult result)
    {
        if (result.Errors.Count == 0) return false;
        // One error: the rest usually follow from it (an unknown option's value is an unknown argument too, a mistyped
        // command leaves the command missing): an unknown option first, then any unknown name.
        string first = result.Errors.Select(Explain).OrderByDescending(m => m.StartsWith(UnknownPrefix, StringComparison.Ordinal))
            .ThenByDescending(m => m.Contains("'-", StringComparison.Ordinal)).First();
        Console.Error.WriteLine($"{Display}: {first}; see --help");
        return true;
    }

    /// <summary>The output folder (created): <c>--out</c>, or <c>out/&lt;name&gt;/&lt;parts&gt;</c>.</summary>
    public string Output(ParseResult parsed, params string[] parts)
    {
        string folder = OutputPath(parsed, parts);
        CreateOutput(folder);
        return folder;
    }

    /// <summary>Creates the output folder <paramref name="folder"/>, or raises an <see cref="IOException"/> saying why it cannot be.</summary>
    public static void CreateOutput(string folder)
    {
        if (File.Exists(folder)) throw new IOException($"the output folder {folder} is a file");
        try { Directory.CreateDirectory(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot create the output folder {folder}: {e.Message}", e);
        }
    }

    /// <summary>The output folder's path, for a program that creates it only once its input has loaded.</summary>
    public string OutputPath(ParseResult parsed, params string[] parts) => parsed.GetValue(output) ?? Path.Combine(["out", Name, .. parts]);

    private string Explain(ParseError error)
    {
        // "Unrecognized command or argument '--preest'." gets the closest known option.
        if (error.Message.StartsWith("Unrecognized", StringComparison.Ordinal) && error.Message.Split('\'') is [_, string token, ..]) return Unknown(token);
        return error.Message.TrimEnd('.');
    }

    private const string UnknownPrefix = "unknown option or argument";

    // Candidates: every option and command name of the program, subcommands' too.
    private string Unknown(string token)
    {
        static IEnumerable<string> Names(Command c) => c.Options.SelectMany(o => o.Aliases.Prepend(o.Name))
            .Concat(c.Subcommands.SelectMany(s => Names(s).Prepend(s.Name)));
        return $"{UnknownPrefix} '{token}'" + (Closest(token, Names(command).Distinct()) is { } near ? $" (did you mean {near}?)" : "");
    }

    private static void CheckChoice(SymbolResult result, string name, string? value, string[] allowed)
    {
        if (value is null || allowed.Contains(value)) return;
        string near = Closest(value, allowed) is { } c ? $" (did you mean {c}?)" : "";
        result.AddError($"{name}: '{value}' is not one of {string.Join(", ", allowed)}{near}");
    }

    /// <summary>The candidate within edit distance max(2, a third of its length) of <paramref name="token"/>, nearest first.</summary>
    internal static string? Closest(string token, IEnumerable<string> candidates) => candidates
        .Select(c => (c, d: Levenshtein.Distance<char>(token, c)))
        .Where(x => x.d <= Math.Max(2, x.c.Length / 3))
        .OrderBy(x => x.d).Select(x => x.c).FirstOrDefault();
}
