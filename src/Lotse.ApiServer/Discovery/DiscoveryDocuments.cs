using System.Text.Json.Nodes;
using Lotse.ApiServer.Registry;

namespace Lotse.ApiServer.Discovery;

/// <summary>
/// The discovery documents kubectl reads: legacy (<c>APIVersions</c>, <c>APIGroupList</c>,
/// <c>APIResourceList</c>) and aggregated (<c>apidiscovery.k8s.io</c> v2 and v2beta1, one document
/// for /api and one for /apis). Built from the registry on every call; the registry is small.
/// </summary>
public sealed class DiscoveryDocuments(ResourceRegistry registry, string serverAddress)
{
    public JsonObject ApiVersions() => new()
    {
        ["kind"] = "APIVersions",
        ["versions"] = new JsonArray("v1"),
        ["serverAddressByClientCIDRs"] = new JsonArray(new JsonObject { ["clientCIDR"] = "0.0.0.0/0", ["serverAddress"] = serverAddress }),
    };

    public JsonObject ApiGroupList() => new()
    {
        ["kind"] = "APIGroupList",
        ["apiVersion"] = "v1",
        ["groups"] = new JsonArray([.. registry.Groups().Where(g => g.Group.Length > 0).Select(g => (JsonNode)ApiGroupBody(g.Group, g.Versions))]),
    };

    public JsonObject? ApiGroup(string group)
    {
        var entry = registry.Groups().FirstOrDefault(g => g.Group == group);
        if (entry.Versions is null || group.Length == 0)
        {
            return null;
        }

        var body = ApiGroupBody(group, entry.Versions);
        body.Insert(0, "kind", "APIGroup");
        body.Insert(1, "apiVersion", "v1");
        return body;
    }

    private static JsonObject ApiGroupBody(string group, IReadOnlyList<string> versions)
    {
        JsonObject Version(string v) => new() { ["groupVersion"] = $"{group}/{v}", ["version"] = v };
        return new JsonObject
        {
            ["name"] = group,
            ["versions"] = new JsonArray([.. versions.Select(v => (JsonNode)Version(v))]),
            ["preferredVersion"] = Version(versions[0]),
        };
    }

    public JsonObject? ApiResourceList(string group, string version)
    {
        var resources = registry.InGroupVersion(group, version);
        if (resources.Count == 0)
        {
            return null;
        }

        var list = new JsonArray();
        foreach (var r in resources.OrderBy(r => r.Plural, StringComparer.Ordinal))
        {
            list.Add(LegacyResource(r, r.Plural, r.Singular, r.Kind, r.Verbs, null, null));
            foreach (var s in r.Subresources.OrderBy(s => s.Name, StringComparer.Ordinal))
            {
                list.Add(LegacyResource(r, $"{r.Plural}/{s.Name}", string.Empty, s.Kind ?? r.Kind, s.Verbs, s.Group, s.Version));
            }
        }

        return new JsonObject
        {
            ["kind"] = "APIResourceList",
            ["apiVersion"] = "v1",
            ["groupVersion"] = group.Length == 0 ? version : $"{group}/{version}",
            ["resources"] = list,
        };
    }

    private static JsonObject LegacyResource(ResourceDefinition r, string name, string singular, string kind, IReadOnlyList<string> verbs, string? group, string? version)
    {
        var o = new JsonObject
        {
            ["name"] = name,
            ["singularName"] = singular,
            ["namespaced"] = r.Namespaced,
        };
        if (group is not null)
        {
            o["group"] = group;
        }

        if (version is not null)
        {
            o["version"] = version;
        }

        o["kind"] = kind;
        o["verbs"] = Strings(verbs);
        if (!name.Contains('/', StringComparison.Ordinal))
        {
            if (r.ShortNames.Count > 0)
            {
                o["shortNames"] = Strings(r.ShortNames);
            }

            if (r.Categories.Count > 0)
            {
                o["categories"] = Strings(r.Categories);
            }

            o["storageVersionHash"] = StorageVersionHash(r);
        }

        return o;
    }

    /// <summary>The aggregated document for /api (core only) or /apis (every named group).</summary>
    public JsonObject Aggregated(bool core, string version)
    {
        var items = new JsonArray();
        foreach (var (group, versions) in registry.Groups())
        {
            if ((group.Length == 0) != core)
            {
                continue;
            }

            var versionList = new JsonArray();
            foreach (var v in versions)
            {
                var resources = new JsonArray();
                foreach (var r in registry.InGroupVersion(group, v).OrderBy(r => r.Plural, StringComparer.Ordinal))
                {
                    var entry = new JsonObject
                    {
                        ["resource"] = r.Plural,
                        ["responseKind"] = Gvk(r.Group, r.Version, r.Kind),
                        ["scope"] = r.Namespaced ? "Namespaced" : "Cluster",
                        ["singularResource"] = r.Singular,
                        ["verbs"] = Strings(r.Verbs),
                    };
                    if (r.ShortNames.Count > 0)
                    {
                        entry["shortNames"] = Strings(r.ShortNames);
                    }

                    if (r.Categories.Count > 0)
                    {
                        entry["categories"] = Strings(r.Categories);
                    }

                    if (r.Subresources.Count > 0)
                    {
                        entry["subresources"] = new JsonArray([.. r.Subresources.OrderBy(s => s.Name, StringComparer.Ordinal).Select(s => (JsonNode)new JsonObject
                        {
                            ["subresource"] = s.Name,
                            ["responseKind"] = Gvk(s.Group ?? r.Group, s.Version ?? r.Version, s.Kind ?? r.Kind),
                            ["verbs"] = Strings(s.Verbs),
                        })]);
                    }

                    resources.Add(entry);
                }

                versionList.Add(new JsonObject { ["version"] = v, ["resources"] = resources, ["freshness"] = "Current" });
            }

            items.Add(new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = group, ["creationTimestamp"] = null },
                ["versions"] = versionList,
            });
        }

        return new JsonObject
        {
            ["kind"] = "APIGroupDiscoveryList",
            ["apiVersion"] = $"apidiscovery.k8s.io/{version}",
            ["metadata"] = new JsonObject(),
            ["items"] = items,
        };
    }

    private static JsonObject Gvk(string group, string version, string kind) => new() { ["group"] = group, ["version"] = version, ["kind"] = kind };

    private static JsonArray Strings(IEnumerable<string> values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);

    /// <summary>kube-apiserver's storageVersionHash: base64 of the first 8 bytes of sha256("group/version/kind").</summary>
    private static string StorageVersionHash(ResourceDefinition r)
    {
        var hash = System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes($"{r.Group}/{r.Version}/{r.Kind}"));
        return Convert.ToBase64String(hash, 0, 8);
    }
}
