using System.Text.Json;
using DistributedLte;
using LowRankBias.Torch.Distributed;

// LTE over processes on libtorch's c10d (Gloo), its data-parallel baseline, and the single-device simulation, on a
// Fashion-MNIST MLP; every rank reports what it sent, the launcher what crossed the loopback interface.
// Usage: see --help. With --fail-rank R --fail-at-step S rank R kills itself before step S; elastic survivors go on;
// the launcher restarts it up to --max-restarts times and it rejoins.
var settings = Settings.Parse(args);
var place = DistributedEnvironment.FromEnvironment();
if (settings.ProcessesPerNode is { } nproc && place.Source == "none")
{
    long before = Loopback.Bytes();
    int[] codes = LocalLauncher.RunSelf(Settings.WithoutLauncherOptions(args), nproc, TimeSpan.FromMinutes(30), stopAllOnFailure: !settings.Elastic, maxRestarts: settings.MaxRestarts,
        stragglerTimeout: TimeSpan.FromSeconds(2 * settings.Timeout)); // elastic ranks detect a silent peer in --timeout
    long crossed = Loopback.Bytes() - before;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"launcher: {nproc} ranks exited with [{string.Join(", ", codes)}]; {crossed:N0} bytes crossed the loopback interface ({crossed / (double)settings.Steps:N0} per step)"));
    if (settings.Out is { } dir) OutputFile.WriteAllText(Path.Combine(dir, $"{settings.Mode}-w{nproc}-loopback.json"), JsonSerializer.Serialize(new { ranks = nproc, settings.Steps, loopback_bytes = crossed }));
    // An elastic run succeeds when every rank finished, but the one told to die unless it was restarted.
    return codes.Where((_, rank) => rank != settings.FailRank || settings.MaxRestarts > 0).All(c => c == 0) ? 0 : 1;
}
Report report = Runs.Train(settings, place);
if (!report.Leader) return 0;
report.Print(settings);
if (settings.Out is { } folder)
{
    ProgramCommand.CreateOutput(folder);
    OutputFile.WriteAllText(Path.Combine(folder, $"{settings.Mode}-w{place.WorldSize}.json"), JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
}
return 0;
