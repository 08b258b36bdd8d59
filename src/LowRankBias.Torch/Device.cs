namespace LowRankBias.Torch;

/// <summary>Device kinds; the values are c10::DeviceType's.</summary>
public enum DeviceType
{
    /// <summary>The host processor.</summary>
    CPU = 0,
    /// <summary>An NVIDIA GPU.</summary>
    CUDA = 1,
}

/// <summary>A device such as <c>cpu</c> or <c>cuda:0</c>; parse one with <see cref="Parse"/>.</summary>
public readonly record struct Device(DeviceType Type, int Index = -1)
{
    /// <summary>The host processor.</summary>
    public static readonly Device CPU = new(DeviceType.CPU);

    /// <summary>The CUDA device with the given index (the current one by default).</summary>
    public static Device CUDA(int index = -1) => new(DeviceType.CUDA, index);

    /// <summary>Parses "cpu", "cuda" or "cuda:N".</summary>
    public static Device Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string[] parts = text.Trim().ToLowerInvariant().Split(':');
        DeviceType type = parts[0] switch
        {
            "cpu" => DeviceType.CPU,
            "cuda" => DeviceType.CUDA,
            _ => throw new ArgumentException($"unknown device '{text}': expected cpu, cuda or cuda:N", nameof(text)),
        };
        if (parts.Length == 1) return new Device(type);
        if (parts.Length == 2 && int.TryParse(parts[1], out int index) && index >= 0) return new Device(type, index);
        throw new ArgumentException($"malformed device '{text}': expected cpu, cuda or cuda:N", nameof(text));
    }

    /// <summary>Throws, naming the device, when it cannot hold tensors here: CUDA with a bridge built against a
    /// CPU-only libtorch or without a visible GPU, or a CUDA index past the visible devices.</summary>
    internal void EnsureAvailable()
    {
        if (Type != DeviceType.CUDA) return;
        int count = s_cudaDevices.Value;
        if (count == 0)
            throw new ArgumentException($"device '{this}' is not available: torch.cuda.is_available() is false (the native bridge was " +
                "built against a CPU-only libtorch, or no GPU is visible); use Device.CPU, or rebuild the bridge against PyTorch's " +
                "CUDA libtorch (LRB_TORCH_DIR, README 'Install')", "device");
        if (Index >= count)
            throw new ArgumentException($"device '{this}' is not available: {count} CUDA device{(count == 1 ? " is" : "s are")} visible (cuda:0{(count > 1 ? $" to cuda:{count - 1}" : "")})", "device");
    }

    private static readonly Lazy<int> s_cudaDevices = new(() => torch.cuda.is_available() ? torch.cuda.device_count() : 0);

    /// <summary>Devices convert from their PyTorch spelling.</summary>
    public static implicit operator Device(string text) => Parse(text);

    /// <inheritdoc />
    public override string ToString() => Type == DeviceType.CPU ? "cpu" : Index < 0 ? "cuda" : $"cuda:{Index}";
}
