namespace Lotse.Agent.Kubelet.Volumes;

/// <summary>A set-up volume: the host path containers bind, and whether the volume itself is read-only.</summary>
internal sealed record PodVolume(string HostPath, bool ReadOnly);
