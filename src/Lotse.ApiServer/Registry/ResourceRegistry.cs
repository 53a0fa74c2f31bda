using System.Collections.Concurrent;

namespace Lotse.ApiServer.Registry;

/// <summary>
/// Every resource the server serves, looked up by URL (group, version, plural). Thread-safe; custom
/// resources are added and removed at run time, so lookups never cache across requests.
/// </summary>
public sealed class ResourceRegistry
{
    private readonly ConcurrentDictionary<(string Group, string Version, string Plural), ResourceDefinition> _byPath = new();
    private readonly List<ResourceDefinition> _ordered = [];
    private readonly Lock _gate = new();

    public ResourceRegistry(IEnumerable<ResourceDefinition> definitions)
    {
        foreach (var definition in definitions)
        {
            Add(definition);
        }
    }

    /// <summary>The built-in resources with their strategies and table printers attached.</summary>
    public static ResourceRegistry CreateBuiltIn(Func<ResourceDefinition, ResourceDefinition> attach) =>
        new(BuiltInResources.Create().Select(attach));

    public void Add(ResourceDefinition definition)
    {
        lock (_gate)
        {
            _byPath[(definition.Group, definition.Version, definition.Plural)] = definition;
            _ordered.RemoveAll(d => d.Group == definition.Group && d.Version == definition.Version && d.Plural == definition.Plural);
            _ordered.Add(definition);
        }
    }

    /// <summary>Stops serving a resource (a custom resource whose definition went away).</summary>
    public void Remove(string group, string version, string plural)
    {
        lock (_gate)
        {
            _byPath.TryRemove((group, version, plural), out _);
            _ordered.RemoveAll(d => d.Group == group && d.Version == version && d.Plural == plural);
        }
    }

    public ResourceDefinition? Find(string group, string version, string plural) =>
        _byPath.TryGetValue((group, version, plural), out var definition) ? definition : null;

    /// <summary>A snapshot of every definition, in registration order.</summary>
    public IReadOnlyList<ResourceDefinition> All
    {
        get
        {
            lock (_gate)
            {
                return [.. _ordered];
            }
        }
    }

    /// <summary>The stored resources, one per storage key prefix (several versions may share one).</summary>
    public IEnumerable<ResourceDefinition> StoredResources =>
        All.Where(d => d.Stored).GroupBy(d => d.KeyPrefix).Select(g => g.First());

    /// <summary>
    /// Groups with their versions, preferred version first: the highest stable version, like
    /// kube-apiserver's priority order (autoscaling prefers v2 over v1).
    /// </summary>
    public IReadOnlyList<(string Group, IReadOnlyList<string> Versions)> Groups()
    {
        var groups = All.GroupBy(d => d.Group).Select(g => (g.Key, (IReadOnlyList<string>)g.Select(d => d.Version).Distinct().OrderByDescending(VersionPriority).ToList())).ToList();
        return [.. groups.OrderBy(g => GroupRank(g.Key)).ThenBy(g => g.Key, StringComparer.Ordinal)];
    }

    public IReadOnlyList<ResourceDefinition> InGroupVersion(string group, string version) =>
        [.. All.Where(d => d.Group == group && d.Version == version)];

    private static int GroupRank(string group)
    {
        var index = BuiltInResources.GroupOrder.ToList().IndexOf(group);
        return index < 0 ? int.MaxValue : index;
    }

    /// <summary>Kubernetes version priority: GA over beta over alpha, then higher numbers first.</summary>
    internal static int VersionPriority(string version)
    {
        var match = System.Text.RegularExpressions.Regex.Match(version, @"^v(\d+)(?:(alpha|beta)(\d+))?$");
        if (!match.Success)
        {
            return 0;
        }

        var major = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        var stage = match.Groups[2].Value switch { "" => 3, "beta" => 2, _ => 1 };
        var minor = match.Groups[3].Success ? int.Parse(match.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture) : 0;
        return (stage * 1000 + major) * 1000 + minor;
    }
}
