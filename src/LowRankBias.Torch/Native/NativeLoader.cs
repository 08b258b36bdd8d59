using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LowRankBias.Torch.Native;

/// <summary>
/// Finds libLowRankBiasNative.so (next to the app, next to this assembly, or in NuGet's runtimes/linux-x64/native)
/// and, once loaded, applies <see cref="ProcessSettings"/> (OpenMP's wait policy before, intra-op threads and the CPU
/// caching allocator after).
/// A missing library or libtorch yields one message saying what was looked for, where, and how to fix it.
/// </summary>
internal static class NativeLoader
{
    private const string FileName = "libLowRankBiasNative.so";
    private static IntPtr s_handle;

#pragma warning disable CA2255 // the resolver must be in place before the first P/Invoke, whoever makes it
    [ModuleInitializer]
    internal static void Register() =>
        NativeLibrary.SetDllImportResolver(typeof(NativeLoader).Assembly, Resolve);
#pragma warning restore CA2255

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name != NativeMethods.Library) return IntPtr.Zero;
        if (s_handle != IntPtr.Zero) return s_handle;
        lock (typeof(NativeLoader))
        {
            if (s_handle == IntPtr.Zero) s_handle = Load(assembly);
        }
        return s_handle;
    }

    private static IntPtr Load(Assembly assembly)
    {
        ProcessSettings.BeforeLoad();
        var errors = new List<string>();
        foreach (string path in Candidates(assembly))
        {
            if (!File.Exists(path)) { errors.Add($"  {path}: not found"); continue; }
            try
            {
                IntPtr handle = NativeLibrary.Load(path);
                ProcessSettings.AfterLoad(handle);
                return handle;
            }
            catch (DllNotFoundException e) { errors.Add($"  {path}: {e.Message}"); }
        }
        throw new DllNotFoundException(
            $"LowRankBias could not load its native bridge {FileName}.\nLooked in:\n{string.Join('\n', errors)}\n" +
            "Fix: install libtorch (Debian: `sudo bash scripts/setup.sh`, or `apt-get install libtorch-dev " +
            "libopenblas0-pthread`), or rebuild the bridge against your own libtorch with " +
            "`LRB_TORCH_DIR=<dir containing TorchConfig.cmake> dotnet build`. Set LRB_NATIVE_PATH to point at " +
            "a library built elsewhere.");
    }

    private static IEnumerable<string> Candidates(Assembly assembly)
    {
        string? overridePath = Environment.GetEnvironmentVariable("LRB_NATIVE_PATH");
        if (!string.IsNullOrEmpty(overridePath)) yield return overridePath;
        var dirs = new[] { AppContext.BaseDirectory, Path.GetDirectoryName(assembly.Location) ?? "" }
            .Where(d => d.Length > 0).Select(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d))).Distinct();
        foreach (string dir in dirs)
        {
            yield return Path.Combine(dir, FileName);
            yield return Path.Combine(dir, "runtimes", "linux-x64", "native", FileName);
        }
    }
}
