using System.Runtime.InteropServices;
using LowRankBias.Torch.Native;

namespace LowRankBias.Torch;

/// <summary>Owns one native at::Tensor; counts how many are alive process-wide.</summary>
internal sealed class TensorHandle : SafeHandle
{
    private static long s_live;

    internal TensorHandle(IntPtr handle) : base(IntPtr.Zero, ownsHandle: true)
    {
        SetHandle(handle);
        Interlocked.Increment(ref s_live);
    }

    internal static long Live => Interlocked.Read(ref s_live);

    public override bool IsInvalid => handle == IntPtr.Zero;

    protected override bool ReleaseHandle()
    {
        NativeMethods.lrb_tensor_free(handle);
        Interlocked.Decrement(ref s_live);
        return true;
    }
}
