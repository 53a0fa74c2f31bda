namespace Lotse.Agent.Kubelet.Volumes;

/// <summary>One file of a projected volume (configMap, secret, downwardAPI, token): its bytes and permission bits.</summary>
internal readonly record struct FilePayload(byte[] Data, int Mode);
