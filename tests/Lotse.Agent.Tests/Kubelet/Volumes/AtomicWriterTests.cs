using System.Text;
using Lotse.Agent.Kubelet.Volumes;

namespace Lotse.Agent.Tests.Kubelet.Volumes;

public sealed class AtomicWriterTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lotse-atomic-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_dir))
        {
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static Dictionary<string, FilePayload> Payload(params (string Path, string Text, int Mode)[] files) =>
        files.ToDictionary(f => f.Path, f => new FilePayload(Encoding.UTF8.GetBytes(f.Text), f.Mode), StringComparer.Ordinal);

    [Fact]
    public void Write_LaysOutTimestampedDir_DataLink_AndPerKeyLinks()
    {
        Assert.True(AtomicWriter.Write(_dir, Payload(("a", "one", 420), ("sub/b", "two", 256)), TimeProvider.System));

        var data = new FileInfo(Path.Combine(_dir, "..data")).LinkTarget;
        Assert.NotNull(data);
        Assert.Matches(@"^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\.\d+$", data);
        Assert.Equal("..data/a", new FileInfo(Path.Combine(_dir, "a")).LinkTarget);
        Assert.Equal("..data/sub", new FileInfo(Path.Combine(_dir, "sub")).LinkTarget);
        Assert.Equal("one", File.ReadAllText(Path.Combine(_dir, "a")));
        Assert.Equal("two", File.ReadAllText(Path.Combine(_dir, "sub", "b")));
        Assert.Equal((UnixFileMode)256, File.GetUnixFileMode(Path.Combine(_dir, data, "sub", "b")));
        Assert.Equal((UnixFileMode)420, File.GetUnixFileMode(Path.Combine(_dir, data, "a")));
    }

    [Fact]
    public void Write_Unchanged_IsANoOp_Changed_SwapsAndDropsOldKeys()
    {
        AtomicWriter.Write(_dir, Payload(("a", "one", 420), ("b", "x", 420)), TimeProvider.System);
        var first = new FileInfo(Path.Combine(_dir, "..data")).LinkTarget;
        Assert.False(AtomicWriter.Write(_dir, Payload(("a", "one", 420), ("b", "x", 420)), TimeProvider.System));
        Assert.Equal(first, new FileInfo(Path.Combine(_dir, "..data")).LinkTarget);

        Assert.True(AtomicWriter.Write(_dir, Payload(("a", "uno", 420)), TimeProvider.System));
        var second = new FileInfo(Path.Combine(_dir, "..data")).LinkTarget;
        Assert.NotEqual(first, second);
        Assert.Equal("uno", File.ReadAllText(Path.Combine(_dir, "a")));
        Assert.False(File.Exists(Path.Combine(_dir, "b")));
        Assert.Null(new FileInfo(Path.Combine(_dir, "b")).LinkTarget);
        Assert.False(Directory.Exists(Path.Combine(_dir, first!)));
        Assert.False(File.Exists(Path.Combine(_dir, "..data_tmp")));
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/abs")]
    [InlineData("a/../../b")]
    [InlineData("..hidden")]
    public void Write_RejectsPathsLeavingTheVolume(string path) =>
        Assert.Throws<VolumeSetupException>(() => AtomicWriter.Write(_dir, Payload((path, "x", 420)), TimeProvider.System));
}
