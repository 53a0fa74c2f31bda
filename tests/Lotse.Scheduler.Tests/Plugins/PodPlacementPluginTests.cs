using k8s.Models;
using Lotse.Client.Images;
using Lotse.Scheduler.Framework;
using Lotse.Scheduler.Plugins.ImageLocality;
using Lotse.Scheduler.Plugins.InterPodAffinity;
using Lotse.Scheduler.Plugins.PodTopologySpread;

namespace Lotse.Scheduler.Tests.Plugins;

/// <summary>The plugins that place a pod relative to other pods (and images), on hand-made nodes.</summary>
public class PodPlacementPluginTests
{
    private static NodeInfo Node(string name, string zone, params V1ContainerImage[] images) => new(new V1Node
    {
        Metadata = new V1ObjectMeta { Name = name, Labels = new Dictionary<string, string> { ["kubernetes.io/hostname"] = name, ["topology.kubernetes.io/zone"] = zone } },
        Status = new V1NodeStatus { Allocatable = new Dictionary<string, ResourceQuantity> { ["cpu"] = new("4"), ["memory"] = new("8Gi"), ["pods"] = new("110") }, Images = images },
    });

    private static PodInfo Pod(string name, string app, Action<V1PodSpec>? change = null, string ns = "d", string image = "busybox")
    {
        var spec = new V1PodSpec { Containers = [new V1Container { Name = "c", Image = image }] };
        change?.Invoke(spec);
        return new PodInfo(new V1Pod { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = ns, Labels = new Dictionary<string, string> { ["app"] = app } }, Spec = spec });
    }

    private static V1PodAffinityTerm Term(string app, string key = "kubernetes.io/hostname") =>
        new() { LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = app } }, TopologyKey = key };

    private const string Fits = "fits";

    private static string[] FilterAll(IPreFilterPlugin plugin, PodInfo pod, params NodeInfo[] nodes)
    {
        plugin.PreFilter(pod, nodes);
        return [.. nodes.Select(n => ((IFilterPlugin)plugin).Filter(pod, n) ?? Fits)];
    }

    private static long[] ScoreAll(IScorePlugin plugin, PodInfo pod, params NodeInfo[] nodes)
    {
        plugin.PreScore(pod, nodes, nodes);
        return [.. nodes.Select(n => plugin.Score(pod, n))];
    }

    private static readonly Func<string, IDictionary<string, string>?> NoNamespaceLabels = _ => null;

    [Fact]
    public void RequiredAntiAffinity_KeepsPodsApart_BothWays()
    {
        var (a, b) = (Node("a", "z1"), Node("b", "z1"));
        a.Add(Pod("web-1", "web"));
        var plugin = new InterPodAffinity(NoNamespaceLabels);
        var apart = Pod("web-2", "web", s => s.Affinity = new V1Affinity { PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term("web")] } });
        Assert.Equal([InterPodAffinity.AntiAffinityReason, Fits], FilterAll(plugin, apart, a, b));

        // Per zone, both nodes are the same domain.
        var zoneApart = Pod("web-3", "web", s => s.Affinity = new V1Affinity { PodAntiAffinity = new V1PodAntiAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term("web", "topology.kubernetes.io/zone")] } });
        Assert.Equal([InterPodAffinity.AntiAffinityReason, InterPodAffinity.AntiAffinityReason], FilterAll(plugin, zoneApart, a, b));

        // A placed pod's anti-affinity keeps a pod it selects out of its domain.
        b.Add(apart);
        Assert.Equal([Fits, InterPodAffinity.ExistingAntiAffinityReason], FilterAll(plugin, Pod("web-4", "web"), a, b));
        Assert.Equal([Fits, Fits], FilterAll(plugin, Pod("db", "db"), a, b));

        // Other namespaces are not looked at unless the term says so.
        Assert.Equal([Fits, Fits], FilterAll(plugin, Pod("web-5", "web", s => s.Affinity = apart.Pod.Spec.Affinity, ns: "other"), a, b));
    }

    [Fact]
    public void RequiredAffinity_FollowsTheSelectedPods_AndLetsTheFirstOfAGroupIn()
    {
        var (a, b, c) = (Node("a", "z1"), Node("b", "z2"), Node("c", "z2"));
        var plugin = new InterPodAffinity(NoNamespaceLabels);
        void WithCache(V1PodSpec s) => s.Affinity = new V1Affinity { PodAffinity = new V1PodAffinity { RequiredDuringSchedulingIgnoredDuringExecution = [Term("cache", "topology.kubernetes.io/zone")] } };
        Assert.Equal([InterPodAffinity.AffinityReason, InterPodAffinity.AffinityReason, InterPodAffinity.AffinityReason], FilterAll(plugin, Pod("web", "web", WithCache), a, b, c));
        Assert.Equal([Fits, Fits, Fits], FilterAll(plugin, Pod("cache-0", "cache", WithCache), a, b, c));
        b.Add(Pod("cache-1", "cache"));
        Assert.Equal([InterPodAffinity.AffinityReason, Fits, Fits], FilterAll(plugin, Pod("web", "web", WithCache), a, b, c));
    }

    [Fact]
    public void PreferredTerms_ScoreTheirDomainsUpOrDown()
    {
        var (a, b) = (Node("a", "z1"), Node("b", "z2"));
        a.Add(Pod("cache-1", "cache"));
        var plugin = new InterPodAffinity(NoNamespaceLabels);
        var near = Pod("web", "web", s => s.Affinity = new V1Affinity { PodAffinity = new V1PodAffinity { PreferredDuringSchedulingIgnoredDuringExecution = [new V1WeightedPodAffinityTerm { PodAffinityTerm = Term("cache"), Weight = 50 }] } });
        Assert.Equal([100L, 0L], ScoreAll(plugin, near, a, b));
        var far = Pod("web", "web", s => s.Affinity = new V1Affinity { PodAntiAffinity = new V1PodAntiAffinity { PreferredDuringSchedulingIgnoredDuringExecution = [new V1WeightedPodAffinityTerm { PodAffinityTerm = Term("cache"), Weight = 50 }] } });
        Assert.Equal([0L, 100L], ScoreAll(plugin, far, a, b));
        Assert.Equal([0L, 0L], ScoreAll(plugin, Pod("plain", "plain"), a, b));
    }

    [Fact]
    public void TopologySpread_DoNotSchedule_HoldsTheSkew_AndNeedsTheKey()
    {
        var (a, b) = (Node("a", "z1"), Node("b", "z2"));
        var bare = new NodeInfo(new V1Node { Metadata = new V1ObjectMeta { Name = "bare" } });
        a.Add(Pod("web-1", "web"));
        var plugin = new PodTopologySpread(_ => null);
        var spread = Pod("web-2", "web", s => s.TopologySpreadConstraints = [new V1TopologySpreadConstraint { MaxSkew = 1, TopologyKey = "topology.kubernetes.io/zone", WhenUnsatisfiable = "DoNotSchedule", LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } } }]);
        Assert.Equal([PodTopologySpread.Reason, Fits, PodTopologySpread.MissingLabelReason], FilterAll(plugin, spread, a, b, bare));
        b.Add(Pod("web-3", "web"));
        Assert.Equal([Fits, Fits, PodTopologySpread.MissingLabelReason], FilterAll(plugin, spread, a, b, bare));

        // minDomains above the domains there are: the least-populated count is taken as 0.
        spread.Pod.Spec.TopologySpreadConstraints[0].MinDomains = 3;
        Assert.Equal([PodTopologySpread.Reason, PodTopologySpread.Reason, PodTopologySpread.MissingLabelReason], FilterAll(plugin, spread, a, b, bare));
    }

    [Fact]
    public void TopologySpread_Defaults_PreferNodesWithFewerPodsOfTheSameOwner()
    {
        var (a, b) = (Node("a", "z1"), Node("b", "z1"));
        a.Add(Pod("web-1", "web"));
        a.Add(Pod("web-2", "web"));
        a.Add(Pod("db-1", "db"));
        var selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "web" } };
        var plugin = new PodTopologySpread(p => p.Metadata.Labels["app"] == "web" ? selector : null);
        var scores = ScoreAll(plugin, Pod("web-3", "web"), a, b);
        Assert.True(scores[1] > scores[0], $"the emptier node scores higher: {string.Join(", ", scores)}");
        Assert.Equal([0L, 0L], ScoreAll(plugin, Pod("lone", "lone"), a, b));
    }

    [Fact]
    public void ImageLocality_PrefersNodesThatHoldTheImage()
    {
        var big = new V1ContainerImage { Names = ["docker.io/library/nginx:1.27"], SizeBytes = 500L * 1024 * 1024 };
        var (a, b) = (Node("a", "z1", big), Node("b", "z1"));
        var scores = ScoreAll(new ImageLocality(), Pod("web", "web", image: "nginx:1.27"), a, b);
        Assert.True(scores[0] > 0 && scores[1] == 0, string.Join(", ", scores));
        Assert.Equal("docker.io/library/nginx:latest", ImageReference.Normalize("nginx"));
        Assert.Equal("docker.io/bitnami/redis:7", ImageReference.Normalize("bitnami/redis:7"));
        Assert.Equal("localhost:5000/x:latest", ImageReference.Normalize("localhost:5000/x"));
        Assert.Equal("quay.io/a/b@sha256:00", ImageReference.Normalize("quay.io/a/b@sha256:00"));
    }
}
