using static LowRankBias.Torch.Native.NativeMethods;

namespace LowRankBias.Torch;

// Autocast: libtorch's Autocast dispatch keys, switched on per thread, so every op of the library is covered.
public static partial class torch
{
    /// <summary>
    /// Runs ops on <paramref name="device_type"/> tensors in mixed precision on this thread until the returned scope is
    /// disposed (<c>with torch.autocast(...)</c>): libtorch casts the inputs of matmul-like ops (linear, matmul,
    /// convolutions…) to <paramref name="dtype"/> and runs precision-sensitive ones (losses, softmax, norms…) in
    /// float32. Parameters keep their dtype; their low-precision copies are cached until the outermost scope ends, and
    /// gradients flow back to them in their own dtype. Scopes nest; disposing one restores the state before it.
    /// </summary>
    /// <param name="device_type">cpu or cuda.</param>
    /// <param name="dtype">float16 or bfloat16; null keeps the device type's current autocast dtype (initially
    /// float16 on CUDA, bfloat16 on the CPU).</param>
    /// <param name="enabled">false turns autocast off inside the scope (a full-precision region).</param>
    public static AutocastScope autocast(DeviceType device_type, ScalarType? dtype = null, bool enabled = true)
    {
        ScalarType target = dtype ?? get_autocast_dtype(device_type);
        if (target is not (ScalarType.Float16 or ScalarType.BFloat16))
            throw new ArgumentException($"autocast runs ops in float16 or bfloat16, not {target}", nameof(dtype));
        return new AutocastScope(device_type, target, enabled);
    }

    /// <summary><see cref="autocast(DeviceType, ScalarType?, bool)"/> with PyTorch's spelling of the device type
    /// (<c>"cpu"</c> or <c>"cuda"</c>, without an index).</summary>
    public static AutocastScope autocast(string device_type, ScalarType? dtype = null, bool enabled = true)
    {
        Device device = Device.Parse(device_type);
        if (device.Index >= 0)
            throw new ArgumentException($"autocast takes a device type (cpu or cuda), not the device '{device_type}'", nameof(device_type));
        return autocast(device.Type, dtype, enabled);
    }

    /// <summary>Whether autocast is on for <paramref name="device_type"/> on this thread.</summary>
    public static bool is_autocast_enabled(DeviceType device_type) => AutocastState(device_type).enabled;

    /// <summary>The dtype autocast uses (or would use) for <paramref name="device_type"/> on this thread.</summary>
    public static ScalarType get_autocast_dtype(DeviceType device_type) => AutocastState(device_type).dtype;

    private static (bool enabled, ScalarType dtype) AutocastState(DeviceType device_type)
    {
        Check(lrb_autocast_get((int)device_type, out int enabled, out int dtype));
        return (enabled != 0, (ScalarType)dtype);
    }

    /// <summary>An autocast region of one thread (see <see cref="autocast(DeviceType, ScalarType?, bool)"/>).</summary>
    public sealed class AutocastScope : IDisposable
    {
        private readonly DeviceType _deviceType;
        private readonly (bool enabled, ScalarType dtype) _previous;
        private readonly int _thread = Environment.CurrentManagedThreadId;
        private bool _disposed;

        internal AutocastScope(DeviceType deviceType, ScalarType dtype, bool enabled)
        {
            _previous = AutocastState(deviceType);
            Check(lrb_autocast_set((int)deviceType, enabled ? 1 : 0, (int)dtype));
            lrb_autocast_increment_nesting();
            _deviceType = deviceType;
        }

        /// <summary>Restores the autocast state from before the scope; the outermost scope also drops the cached
        /// low-precision copies. Must run on the thread that opened the scope.</summary>
        public void Dispose()
        {
            if (_disposed) return;
            if (Environment.CurrentManagedThreadId != _thread)
                throw new InvalidOperationException("an autocast scope must be disposed on the thread that opened it: autocast state is per thread");
            _disposed = true;
            if (lrb_autocast_decrement_nesting() == 0) lrb_autocast_clear_cache();
            Check(lrb_autocast_set((int)_deviceType, _previous.enabled ? 1 : 0, (int)_previous.dtype));
        }
    }
}
