using Lotse.Agent.Cri.V1;
using Lotse.Agent.Kubelet;

namespace Lotse.Agent.Tests.Kubelet;

public sealed class ImageGarbageTests
{
    private const long Mi = 1024L * 1024;

    private static Image Image(string id, long sizeMi, params string[] tags)
    {
        var image = new Image { Id = id, Size = (ulong)(sizeMi * Mi) };
        image.RepoTags.Add(tags);
        image.RepoDigests.Add($"registry.test/{id}@sha256:{id}");
        return image;
    }

    [Fact]
    public void BelowTheHighThreshold_NothingIsRemoved()
    {
        var gc = new ImageGarbage(minAge: TimeSpan.Zero);
        Assert.Empty(gc.Plan([Image("a", 100)], new HashSet<string>(), "pause", usedBytes: 84 * Mi, capacityBytes: 100 * Mi, DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void AboveIt_UnusedImagesGo_LeastRecentlyUsedFirst_UntilTheLowThreshold()
    {
        var gc = new ImageGarbage(minAge: TimeSpan.FromMinutes(2));
        var start = DateTimeOffset.UnixEpoch;
        Image[] images = [Image("old", 4, "old:1"), Image("recent", 4, "recent:1"), Image("running", 50, "running:1"), Image("pause", 1, "pause")];

        // First seen now: too young to collect, however full the disk.
        Assert.Empty(gc.Plan(images, new HashSet<string> { "running", "recent" }, "pause", 90 * Mi, 100 * Mi, start));

        // Later, "recent" was used more recently than "old": "old" goes first; 90 → 80 needs 10 MiB, so both go.
        var later = start + TimeSpan.FromMinutes(3);
        var plan = gc.Plan(images, new HashSet<string> { "running" }, "pause", 90 * Mi, 100 * Mi, later);
        Assert.Equal(["old", "recent"], plan.Select(i => i.Id));

        // Only what is needed: 86 → 80 frees 6 MiB, two images of 4; 17 of 20 → 16 frees 1 MiB, one.
        Assert.Equal(["old", "recent"], gc.Plan(images, new HashSet<string> { "running" }, "pause", 86 * Mi, 100 * Mi, later).Select(i => i.Id));
        Assert.Equal(["old"], gc.Plan(images, new HashSet<string> { "running" }, "pause", 17 * Mi, 20 * Mi, later).Select(i => i.Id));
    }

    [Fact]
    public void ImagesInUse_AndThePauseImage_AreNeverRemoved()
    {
        var gc = new ImageGarbage(minAge: TimeSpan.Zero);
        Image[] images = [Image("running", 50, "running:1"), Image("pause", 1, "lotse.io/pause:catatonit")];
        Assert.Empty(gc.Plan(images, new HashSet<string> { "running" }, "lotse.io/pause:catatonit", 99 * Mi, 100 * Mi, DateTimeOffset.UnixEpoch));
    }

    [Fact]
    public void TheNodeReports_TheLargestFifty_ByDigestAndTag()
    {
        var images = Enumerable.Range(1, 60).Select(i => Image($"i{i}", i, $"img:{i}")).ToList();
        var reported = ImageGarbage.NodeImages(images).ToList();
        Assert.Equal(50, reported.Count);
        Assert.Equal(60 * Mi, reported[0].Size);
        Assert.Equal(["registry.test/i60@sha256:i60", "img:60"], reported[0].Names);
    }
}
