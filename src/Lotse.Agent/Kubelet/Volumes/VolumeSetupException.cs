namespace Lotse.Agent.Kubelet.Volumes;

/// <summary>A volume could not be set up; the message is kube's (it follows <c>MountVolume.SetUp failed for volume "x" : </c>).</summary>
public sealed class VolumeSetupException : Exception
{
    public VolumeSetupException()
    {
    }

    public VolumeSetupException(string message)
        : base(message)
    {
    }

    public VolumeSetupException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
