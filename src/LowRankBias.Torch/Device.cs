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

    /// <summary>Devices convert from their PyTorch spelling.</summary>
    public static implicit operator Device(string text) => Parse(text);

    /// <inheritdoc />
    public override string ToString() => Type == DeviceType.CPU ? "cpu" : Index < 0 ? "cuda" : $"cuda:{Index}";
}
