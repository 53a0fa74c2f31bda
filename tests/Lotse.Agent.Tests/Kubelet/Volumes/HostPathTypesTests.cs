using System.Net.Sockets;
using Lotse.Agent.Kubelet.Volumes;

namespace Lotse.Agent.Tests.Kubelet.Volumes;

public sealed class HostPathTypesTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lotse-hostpath-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void OrCreate_CreatesWhatIsMissing()
    {
        var dir = Path.Combine(_dir, "d", "e");
        HostPathTypes.Check(dir, "DirectoryOrCreate");
        Assert.True(Directory.Exists(dir));
        var file = Path.Combine(_dir, "f");
        HostPathTypes.Check(file, "FileOrCreate");
        Assert.True(File.Exists(file));
        HostPathTypes.Check(file, "File");
        HostPathTypes.Check(dir, "Directory");
    }

    [Theory]
    [InlineData("Directory", "file", "is not a directory")]
    [InlineData("Directory", "missing", "is not a directory")]
    [InlineData("DirectoryOrCreate", "file", "is not a directory")]
    [InlineData("File", "dir", "is not a file")]
    [InlineData("FileOrCreate", "dir", "is not a file")]
    [InlineData("File", "missing", "is not a file")]
    [InlineData("Socket", "file", "is not a socket file")]
    [InlineData("CharDevice", "file", "is not a character device")]
    [InlineData("BlockDevice", "dir", "is not a block device")]
    public void Mismatch_IsWordedAsKube(string type, string what, string words)
    {
        File.WriteAllText(Path.Combine(_dir, "file"), "x");
        Directory.CreateDirectory(Path.Combine(_dir, "dir"));
        var path = Path.Combine(_dir, what);
        var error = Assert.Throws<VolumeSetupException>(() => HostPathTypes.Check(path, type));
        Assert.Equal($"hostPath type check failed: {path} {words}", error.Message);
    }

    [Fact]
    public void DevicesAndSockets_AreRecognised()
    {
        HostPathTypes.Check("/dev/null", "CharDevice");
        Assert.Throws<VolumeSetupException>(() => HostPathTypes.Check("/dev/null", "BlockDevice"));
        var socketPath = Path.Combine(_dir, "s.sock");
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(socketPath));
        HostPathTypes.Check(socketPath, "Socket");
        Assert.Throws<VolumeSetupException>(() => HostPathTypes.Check(socketPath, "File"));
    }

    [Fact]
    public void UnknownType_IsInvalid() =>
        Assert.Equal("Pipe is an invalid volume type", Assert.Throws<VolumeSetupException>(() => HostPathTypes.Check(_dir, "Pipe")).Message);
}
