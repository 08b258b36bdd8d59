using System.CommandLine;
using System.CommandLine.Parsing;

namespace LowRankBias.Samples;

/// <summary>
/// The command line of a sample or tool, on System.CommandLine: <c>--help</c> prints usage with every default and
/// allowed value and runs nothing; an unknown option or a bad value ends the process with exit code 1 and one line on
/// stderr (with "did you mean" where a known name or value is close); so does any of <see cref="Expected"/> raised
/// later — bad input, a file that cannot be read or written, a failed distributed job — since each has a message that
/// says what went wrong and a stack trace would add nothing. Results go to <c>out/&lt;program&gt;/</c> unless
/// <c>--out</c> says otherwise.
/// </summary>
public sealed class ProgramCommand
{
    private readonly RootCommand root;
    private readonly Option<string?> output;

    /// <summary>The program's name, as in <c>out/&lt;Name&gt;/</c> and its messages.</summary>
    public string Name { get; }

    /// <param name="name">Short lower-case name (the default output folder is <c>out/&lt;name&gt;</c>).</param>
    /// <param name="description">What the program does, the first lines of <c>--help</c>.</param>
    public ProgramCommand(string name, string description)
    {
        Name = name;
        root = new RootCommand(description);
        output = new Option<string?>("--out") { Description = $"Folder for results [default: out/{name}/...]", HelpName = "DIR" };
        root.Options.Add(output);
        AppDomain.CurrentDomain.UnhandledException += (_, e) =>
        {
            if (e.ExceptionObject is not Exception error || !Expected(error)) return;
            Console.Error.WriteLine($"{Name}: {error.Message}");
            Environment.Exit(1);
        };
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
        root.Options.Add(option);
        return option;
    }

    /// <summary>An option without a default: absent means null.</summary>
    public Option<T?> Optional<T>(string name, string description, string? helpName = null)
    {
        var option = new Option<T?>(name) { Description = description };
        if (helpName is not null) option.HelpName = helpName;
        root.Options.Add(option);
        return option;
    }

    /// <summary>A switch (present: true).</summary>
    public Option<bool> Flag(string name, string description)
    {
        var option = new Option<bool>(name) { Description = description };
        root.Options.Add(option);
        return option;
    }

    /// <summary>An option that takes one of <paramref name="allowed"/> (listed in <c>--help</c>).</summary>
    public Option<string> Choice(string name, string defaultValue, string description, params string[] allowed)
    {
        var option = new Option<string>(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = string.Join('|', allowed) };
        option.Validators.Add(r => CheckChoice(r, name, r.GetValueOrDefault<string>(), allowed));
        root.Options.Add(option);
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
        root.Options.Add(option);
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
        root.Arguments.Add(argument);
        return argument;
    }

    /// <summary>
    /// Parses <paramref name="args"/>; returns only when the program should run. Help exits 0, errors exit 1 with
    /// one line each.
    /// </summary>
    public ParseResult Parse(string[] args)
    {
        ParseResult result = root.Parse(args);
        if (result.Errors.Count > 0)
        {
            // One error: the rest usually follow from it (an unknown option's value is an unknown argument too).
            string first = result.Errors.Select(Explain).OrderByDescending(m => m.Contains("'-", StringComparison.Ordinal)).First();
            Console.Error.WriteLine($"{Name}: {first}; see --help");
            Environment.Exit(1);
        }
        if (result.Action is not null) Environment.Exit(result.Invoke());
        return result;
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

    private string Unknown(string token)
    {
        string[] names = root.Options.SelectMany(o => o.Aliases.Prepend(o.Name)).Distinct().ToArray();
        return $"unknown option or argument '{token}'" + (Closest(token, names) is { } near ? $" (did you mean {near}?)" : "");
    }

    private static void CheckChoice(SymbolResult result, string name, string? value, string[] allowed)
    {
        if (value is null || allowed.Contains(value)) return;
        string near = Closest(value, allowed) is { } c ? $" (did you mean {c}?)" : "";
        result.AddError($"{name}: '{value}' is not one of {string.Join(", ", allowed)}{near}");
    }

    /// <summary>The candidate within edit distance max(2, a third of its length) of <paramref name="token"/>, nearest first.</summary>
    internal static string? Closest(string token, IEnumerable<string> candidates) => candidates
        .Select(c => (c, d: Distance(token, c)))
        .Where(x => x.d <= Math.Max(2, x.c.Length / 3))
        .OrderBy(x => x.d).Select(x => x.c).FirstOrDefault();

    /// <summary>Levenshtein distance.</summary>
    internal static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }
}
