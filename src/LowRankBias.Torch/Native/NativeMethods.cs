using System.Runtime.InteropServices;

namespace LowRankBias.Torch.Native;

/// <summary>P/Invoke declarations of the C ABI in src/LowRankBias.Native/include/lrb.h.</summary>
internal static unsafe partial class NativeMethods
{
    internal const string Library = "LowRankBiasNative";

    [StructLayout(LayoutKind.Sequential)]
    internal struct ArgValue
    {
        public int Kind;
        public int Len;
        public long I;
        public double D;
        public IntPtr P;
    }

    [StructLayout(LayoutKind.Sequential)]
    internal struct OutValue
    {
        public int Kind;
        public int Pad;
        public long I;
        public double D;
        public IntPtr T;
    }

    [LibraryImport(Library)] internal static partial IntPtr lrb_last_error();
    [LibraryImport(Library)] internal static partial IntPtr lrb_torch_version();
    [LibraryImport(Library)] internal static partial int lrb_get_num_threads();
    [LibraryImport(Library)] internal static partial void lrb_set_num_threads(int n);
    [LibraryImport(Library)] internal static partial void lrb_cpu_empty_cache();
    [LibraryImport(Library)] internal static partial void lrb_cpu_memory_stats(long* reserved, long* idle);
    [LibraryImport(Library), SuppressGCTransition] internal static partial long lrb_cpu_memory_allocated();
    [LibraryImport(Library)] internal static partial int lrb_manual_seed(ulong seed);
    [LibraryImport(Library)] internal static partial int lrb_set_grad_enabled(int enabled);
    [LibraryImport(Library)] internal static partial int lrb_is_grad_enabled();
    [LibraryImport(Library)] internal static partial int lrb_cuda_is_available();
    [LibraryImport(Library)] internal static partial int lrb_cuda_device_count();
    [LibraryImport(Library)] internal static partial int lrb_cuda_synchronize(int device);
    [LibraryImport(Library)] internal static partial int lrb_cuda_memory_stats(int device, long* stats4);
    [LibraryImport(Library)] internal static partial int lrb_cuda_reset_peak_memory_stats(int device);
    [LibraryImport(Library)] internal static partial int lrb_rng_get_state(out IntPtr state);
    [LibraryImport(Library)] internal static partial int lrb_rng_set_state(IntPtr state);
    [LibraryImport(Library)] internal static partial int lrb_generator_create(ulong seed, out IntPtr generator);
    [LibraryImport(Library)] internal static partial void lrb_generator_free(IntPtr generator);

    [LibraryImport(Library)] internal static partial int lrb_autocast_set(int deviceType, int enabled, int dtype);
    [LibraryImport(Library)] internal static partial int lrb_autocast_get(int deviceType, out int enabled, out int dtype);
    [LibraryImport(Library)] internal static partial int lrb_autocast_increment_nesting();
    [LibraryImport(Library)] internal static partial int lrb_autocast_decrement_nesting();
    [LibraryImport(Library)] internal static partial void lrb_autocast_clear_cache();

    [LibraryImport(Library), SuppressGCTransition] internal static partial void lrb_tensor_free(IntPtr t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial long lrb_tensor_owned_nbytes(IntPtr t);
    [LibraryImport(Library)] internal static partial IntPtr lrb_tensor_alias(IntPtr t);
    [LibraryImport(Library)]
    internal static partial int lrb_tensor_from_data(void* data, long nbytes, long* shape, int ndim, int dtype,
        int deviceType, int deviceIndex, int requiresGrad, out IntPtr result);
    [LibraryImport(Library)] internal static partial int lrb_tensor_to_host(IntPtr t, void* dst, long nbytes);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int lrb_tensor_dim(IntPtr t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial void lrb_tensor_shape(IntPtr t, long* shape);
    [LibraryImport(Library), SuppressGCTransition] internal static partial long lrb_tensor_numel(IntPtr t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int lrb_tensor_dtype(IntPtr t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial void lrb_tensor_device(IntPtr t, out int type, out int index);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int lrb_tensor_requires_grad(IntPtr t);
    [LibraryImport(Library)] internal static partial int lrb_tensor_set_requires_grad(IntPtr t, int value);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int lrb_tensor_is_leaf(IntPtr t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int lrb_tensor_is_contiguous(IntPtr t);
    [LibraryImport(Library), SuppressGCTransition] internal static partial int lrb_tensor_is_mkldnn(IntPtr t);
    [LibraryImport(Library)] internal static partial int lrb_tensor_backward(IntPtr t, IntPtr grad, int retainGraph, int createGraph);
    [LibraryImport(Library)] internal static partial int lrb_tensor_grad(IntPtr t, out IntPtr grad);
    [LibraryImport(Library)] internal static partial int lrb_tensor_set_grad(IntPtr t, IntPtr grad);
    [LibraryImport(Library)] internal static partial int lrb_tensor_set_data(IntPtr t, IntPtr src);
    [LibraryImport(Library)] internal static partial int lrb_binary(int op, IntPtr a, IntPtr b, out IntPtr result);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int lrb_op_find(string name, string overload, out IntPtr op, out int nargs, out int nreturns);
    [LibraryImport(Library)]
    internal static partial void lrb_op_arg(IntPtr op, int i, out int typeCode, out int hasDefault, out IntPtr name, out IntPtr typeStr);
    [LibraryImport(Library)] internal static partial IntPtr lrb_op_schema(IntPtr op);
    [LibraryImport(Library)] internal static partial int lrb_op_has_kernel(IntPtr op, int deviceType, out int hasKernel);
    [LibraryImport(Library)]
    internal static partial int lrb_op_call(IntPtr op, ArgValue* args, int nargs, OutValue* outs, int cap, out int nouts);
    [LibraryImport(Library)] internal static partial int lrb_op_take_results(OutValue* outs, int n);

    /// <summary>Throws the native side's last error as a <see cref="TorchException"/> when status is non-zero.</summary>
    internal static void Check(int status)
    {
        if (status != 0) throw new TorchException(Marshal.PtrToStringUTF8(lrb_last_error()) ?? "unknown native error");
    }
}
