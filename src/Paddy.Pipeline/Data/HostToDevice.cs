using static TorchSharp.torch;

namespace Paddy.Pipeline.Data;

/// <summary>The host-to-device seam of the loader. On CUDA the batch is pinned so the copy can overlap compute.</summary>
public static class HostToDevice
{
    public static Tensor Transfer(Tensor host, TorchSharp.torch.Device device)
    {
        if (device.type == TorchSharp.DeviceType.CPU) return host.alias();
        using var pinned = host.pin_memory();
        return pinned.to(device, non_blocking: true);
    }
}
