using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace LowRankBias.Torch.Distributed;

/// <summary>
/// Starts the processes of a one-machine job the way <c>torchrun --nproc-per-node N</c> does: N copies of a command,
/// each with torchrun's variables (<c>RANK</c>, <c>WORLD_SIZE</c>, <c>LOCAL_RANK</c>, <c>MASTER_ADDR</c> = 127.0.0.1, a
/// free <c>MASTER_PORT</c>) and <c>OMP_NUM_THREADS</c> = cores / N; their output is forwarded line by line with a
/// <c>[rank r]</c> prefix. The launcher hosts the rendezvous store itself (torchrun's agent store), so any rank may
/// die without taking the store along. When one process fails the others are stopped, so nothing is left hanging —
/// unless the job is elastic (its survivors re-form their group and go on); then, once a rank has finished the job,
/// ranks still running after a grace period (a rank stalled while the survivors re-formed without it) are stopped. On several machines, start each process
/// with the same variables (or under Slurm / Open MPI) instead.
/// </summary>
public static class LocalLauncher
{
    /// <summary>Runs <paramref name="fileName"/> <paramref name="arguments"/> as <paramref name="nproc"/> ranks and returns their exit codes.</summary>
    /// <param name="fileName">The program.</param>
    /// <param name="arguments">Its arguments, the same for every rank.</param>
    /// <param name="nproc">Number of processes (the world size).</param>
    /// <param name="timeout">Every process still running after this is stopped (exit code -1). Default: none.</param>
    /// <param name="output">Receives each line of output as (rank, line); default: written to the console.</param>
    /// <param name="stopAllOnFailure">Stop every process when one fails (default); false for elastic jobs.</param>
    /// <param name="maxRestarts">With <paramref name="stopAllOnFailure"/> false: a rank that fails is started again, up to
    /// this many times, with <c>TORCHELASTIC_RESTART_COUNT</c> counting its restarts (see
    /// <see cref="DistributedEnvironment.RestartCount"/>); it should come back with <see cref="ProcessGroup.rejoin"/>.</param>
    /// <param name="stragglerTimeout">With <paramref name="stopAllOnFailure"/> false: once a rank has exited successfully (the
    /// job is done), ranks still running after this are stopped (exit code -1). Default: 2 minutes.</param>
    /// <returns>The exit code of each rank's last process.</returns>
    public static int[] Run(string fileName, IEnumerable<string> arguments, int nproc, TimeSpan? timeout = null, Action<int, string>? output = null,
        bool stopAllOnFailure = true, int maxRestarts = 0, TimeSpan? stragglerTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxRestarts);
        if (maxRestarts > 0 && stopAllOnFailure) throw new ArgumentException("restarting failed ranks needs stopAllOnFailure: false", nameof(maxRestarts));
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(nproc);
        output ??= (rank, line) => Console.WriteLine($"[rank {rank}] {line}");
        string[] args = arguments.ToArray();
        int port = FreePort();
        using var store = new TCPStore("127.0.0.1", port, is_server: true, timeout ?? TimeSpan.FromHours(1), nproc);
        var processes = new Process[nproc];
        var restarts = new int[nproc];
        var finished = new List<Process>();
        try
        {
            for (int rank = 0; rank < nproc; rank++) processes[rank] = Start(fileName, args, rank, nproc, port, 0, output);
            var deadline = timeout is { } t ? Task.Delay(t) : Task.Delay(Timeout.Infinite);
            TimeSpan grace = stragglerTimeout ?? TimeSpan.FromMinutes(2);
            Task? stragglers = null; // armed when the first rank finishes an elastic job
            while (true)
            {
                // One snapshot of the running ranks both ends the loop and is what it waits on (two reads could disagree
                // when the last ranks exit between them). A rank exiting after it is in the snapshot (its exit wakes the
                // loop) or seen by the checks below — never missed until the deadline.
                Process[] running = processes.Where(p => !p.HasExited).ToArray();
                if (running.Length == 0) break;
                if (!stopAllOnFailure && stragglers is null && processes.Any(p => p.HasExited && p.ExitCode == 0)) stragglers = Task.Delay(grace);
                Task exit = Task.WhenAny(running.Select(p => p.WaitForExitAsync()));
                Task first = Task.WhenAny(exit, deadline, stragglers ?? Task.Delay(Timeout.Infinite)).GetAwaiter().GetResult();
                if (first == stragglers)
                {
                    for (int rank = 0; rank < nproc; rank++)
                        if (!processes[rank].HasExited)
                            output(rank, $"still running {grace.TotalSeconds:0} s after another rank finished the job (stalled?): stopping it");
                    break;
                }
                if (first == deadline || (stopAllOnFailure && processes.Any(p => p.HasExited && p.ExitCode != 0))) break;
                for (int rank = 0; rank < nproc; rank++)
                {
                    if (!processes[rank].HasExited || processes[rank].ExitCode == 0 || restarts[rank] == maxRestarts) continue;
                    output(rank, $"exited with code {processes[rank].ExitCode}; restarting it ({++restarts[rank]} of {maxRestarts})");
                    finished.Add(processes[rank]);
                    ProcessGroup.AnnounceRestart(store);
                    processes[rank] = Start(fileName, args, rank, nproc, port, restarts[rank], output);
                }
            }
            return processes.Select(Finish).ToArray();
        }
        finally
        {
            foreach (Process? p in processes.Concat(finished)) p?.Dispose();
        }
    }

    /// <summary>
    /// Runs this program again as <paramref name="nproc"/> ranks with <paramref name="arguments"/> (see
    /// <see cref="Run"/>), whether it was started as an executable or with <c>dotnet app.dll</c>.
    /// </summary>
    public static int[] RunSelf(IEnumerable<string> arguments, int nproc, TimeSpan? timeout = null, Action<int, string>? output = null,
        bool stopAllOnFailure = true, int maxRestarts = 0, TimeSpan? stragglerTimeout = null)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        string host = Environment.ProcessPath ?? throw new InvalidOperationException("the path of this process is unknown");
        bool viaDotnet = Path.GetFileNameWithoutExtension(host) == "dotnet";
        string[] prefix = viaDotnet ? [Environment.GetCommandLineArgs()[0]] : [];
        return Run(host, prefix.Concat(arguments), nproc, timeout, output, stopAllOnFailure, maxRestarts, stragglerTimeout);
    }

    private static Process Start(string fileName, string[] args, int rank, int nproc, int port, int restart, Action<int, string> output)
    {
        var info = new ProcessStartInfo(fileName) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) info.ArgumentList.Add(a);
        var place = new DistributedEnvironment { Rank = rank, WorldSize = nproc, LocalRank = rank, MasterAddress = "127.0.0.1", MasterPort = port, AgentStore = true, RestartCount = restart };
        foreach ((string name, string value) in place.ToVariables()) info.Environment[name] = value;
        info.Environment["OMP_NUM_THREADS"] = Math.Max(1, Environment.ProcessorCount / nproc).ToString(CultureInfo.InvariantCulture);
        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output(rank, e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output(rank, e.Data); };
        if (!process.Start()) throw new InvalidOperationException($"could not start rank {rank}: {fileName}");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static int Finish(Process process)
    {
        if (process.HasExited)
        {
            process.WaitForExit(); // drains the redirected output
            return process.ExitCode;
        }
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
        return -1;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
