using Lotse.Agent.Cri.V1;

namespace Lotse.Agent.Kubelet;

/// <summary>
/// The kubelet's image garbage collection and the node's image list. When the image file system is
/// used at or above the high threshold (85 %), images no container uses — running or exited — are
/// removed, those unused the longest first and none first seen less than two minutes ago, until
/// usage is back at the low threshold (80 %). The pause image is never removed.
/// </summary>
internal sealed class ImageGarbage(int highPercent = 85, int lowPercent = 80, TimeSpan? minAge = null)
{
    /// <summary>The most images a Node reports (the kubelet's nodeStatusMaxImages).</summary>
    public const int MaxNodeImages = 50;

    private readonly TimeSpan _minAge = minAge ?? TimeSpan.FromMinutes(2);
    private readonly Dictionary<string, DateTimeOffset> _lastUsed = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _firstSeen = new(StringComparer.Ordinal);

    public int HighPercent => highPercent;

    /// <summary>The images to remove, given what is stored, what containers use, and the file system's usage.</summary>
    public List<Image> Plan(IReadOnlyList<Image> images, IReadOnlySet<string> inUse, string pauseImage, long usedBytes, long capacityBytes, DateTimeOffset now)
    {
        foreach (var image in images)
        {
            _firstSeen.TryAdd(image.Id, now);
            if (inUse.Contains(image.Id))
            {
                _lastUsed[image.Id] = now;
            }
        }

        var stored = images.Select(i => i.Id).ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _firstSeen.Keys.Where(id => !stored.Contains(id)).ToList())
        {
            _firstSeen.Remove(gone);
            _lastUsed.Remove(gone);
        }

        if (capacityBytes <= 0 || usedBytes * 100 < capacityBytes * highPercent)
        {
            return [];
        }

        var toFree = usedBytes - (capacityBytes * lowPercent / 100);
        var plan = new List<Image>();
        foreach (var image in images
            .Where(i => !inUse.Contains(i.Id) && !i.RepoTags.Contains(pauseImage) && now - _firstSeen[i.Id] >= _minAge)
            .OrderBy(i => _lastUsed.TryGetValue(i.Id, out var used) ? used : _firstSeen[i.Id]))
        {
            if (toFree <= 0)
            {
                break;
            }

            plan.Add(image);
            toFree -= (long)image.Size;
        }

        return plan;
    }

    /// <summary>The Node's <c>status.images</c>: the largest images, each by its digests and tags.</summary>
    public static IEnumerable<(IReadOnlyList<string> Names, long Size)> NodeImages(IEnumerable<Image> images) =>
        images.OrderByDescending(i => i.Size).Take(MaxNodeImages).Select(i => ((IReadOnlyList<string>)[.. i.RepoDigests, .. i.RepoTags], (long)i.Size));
}
