using Lotse.Scheduler.Framework;

namespace Lotse.Scheduler.Plugins.ImageLocality;

/// <summary>
/// Score: nodes that already hold the pod's images are preferred, by the images' size scaled by how
/// many nodes have them (an image everywhere gives no node an edge), between kube's thresholds of
/// 23 MB and 1000 MB per container.
/// </summary>
public sealed class ImageLocality : IScorePlugin
{
    private const long MinThreshold = 23L * 1024 * 1024;
    private const long MaxContainerThreshold = 1000L * 1024 * 1024;

    public string Name => "ImageLocality";

    public int Weight => 1;

    public void PreScore(PodInfo pod, IReadOnlyList<NodeInfo> feasible, IReadOnlyList<NodeInfo> all)
    {
        // How many nodes hold each of the pod's images (only when some node reports images at all).
        var spread = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var image in pod.Images)
        {
            if (spread.ContainsKey(image))
            {
                continue;
            }

            var holders = 0;
            foreach (var node in all)
            {
                if (node.Images.ContainsKey(image))
                {
                    holders++;
                }
            }

            spread[image] = holders;
        }

        pod.State[Name] = (spread, all.Count);
    }

    public long Score(PodInfo pod, NodeInfo node)
    {
        if (node.Images.Count == 0 || !pod.State.TryGetValue(Name, out var state))
        {
            return 0;
        }

        var (spread, nodes) = ((Dictionary<string, int>, int))state;
        long sum = 0;
        foreach (var image in pod.Images)
        {
            if (node.Images.TryGetValue(image, out var size))
            {
                sum += (long)(size * ((double)spread[image] / nodes));
            }
        }

        var max = MaxContainerThreshold * Math.Max(1, pod.Images.Count);
        sum = Math.Clamp(sum, MinThreshold, max);
        return 100 * (sum - MinThreshold) / (max - MinThreshold);
    }
}
