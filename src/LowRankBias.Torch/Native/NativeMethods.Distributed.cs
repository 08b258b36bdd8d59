using System.Runtime.InteropServices;

namespace LowRankBias.Torch.Native;

/// <summary>P/Invoke declarations of lrb.h's c10d section.</summary>
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int lrb_dist_has_backend(string name);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int lrb_tcp_store_create(string host, int port, int isServer, int worldSize, long timeoutMs, out IntPtr store);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int lrb_store_prefixed(IntPtr store, string prefix, out IntPtr prefixed);
    [LibraryImport(Library)] internal static partial void lrb_store_free(IntPtr store);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int lrb_store_set(IntPtr store, string key, byte* value, long length);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int lrb_store_get(IntPtr store, string key, out IntPtr value);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int lrb_store_add(IntPtr store, string key, long delta, out long value);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)] internal static partial int lrb_store_check(IntPtr store, string key, out int present);
    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int lrb_process_group_create(string backend, IntPtr store, int rank, int size, long timeoutMs,
        string? glooInterface, string? glooHostname, out IntPtr group);
    [LibraryImport(Library)] internal static partial void lrb_process_group_free(IntPtr group);
    [LibraryImport(Library)] internal static partial int lrb_all_reduce(IntPtr group, IntPtr tensor, int op);
    [LibraryImport(Library)] internal static partial int lrb_all_gather(IntPtr group, IntPtr input, IntPtr* outputs, int count);
    [LibraryImport(Library)] internal static partial int lrb_broadcast(IntPtr group, IntPtr tensor, int root);
    [LibraryImport(Library)] internal static partial int lrb_barrier(IntPtr group);
}
