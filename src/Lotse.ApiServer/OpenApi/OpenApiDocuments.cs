using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Registry;

namespace Lotse.ApiServer.OpenApi;

/// <summary>
/// The OpenAPI documents kubectl fetches before writes: the v3 index (<c>/openapi/v3</c>), one v3
/// document per group-version, and the v2 document (served as gnostic protobuf). Every path of a
/// writable kind carries a PATCH operation with <c>x-kubernetes-group-version-kind</c> and the
/// <c>fieldValidation</c> query parameter — what kubectl checks before it sends
/// <c>fieldValidation=Strict</c> instead of validating on the client (cli-runtime's
/// supportsQueryParamV3). Schemas of built-in kinds carry their full property trees
/// (<see cref="ModelSchemas"/>); documents are built once per registry state and kept.
/// </summary>
public sealed class OpenApiDocuments(ResourceRegistry registry)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (int Resources, JsonObject? Document)> _v3 = new(StringComparer.Ordinal);
    private (int Resources, JsonObject Document)? _v2;

    /// <summary>Forgets the built documents (the registry changed in place).</summary>
    public void Invalidate()
    {
        _v3.Clear();
        _v2 = null;
    }

    /// <summary>"api/v1" or "apis/{group}/{version}" for every served group-version.</summary>
    public IReadOnlyList<string> GroupVersionPaths() =>
        [.. registry.All.Select(d => d.Group.Length == 0 ? $"api/{d.Version}" : $"apis/{d.Group}/{d.Version}").Distinct().Order(StringComparer.Ordinal)];

    public JsonObject V3Index()
    {
        var paths = new JsonObject();
        foreach (var gv in GroupVersionPaths())
        {
            var hash = Hash(V3Document(gv)!);
            paths[gv] = new JsonObject { ["serverRelativeURL"] = $"/openapi/v3/{gv}?hash={hash}" };
        }

        return new JsonObject { ["paths"] = paths };
    }

    /// <summary>The document of one group-version path ("api/v1", "apis/apps/v1"), or null.</summary>
    public JsonObject? V3Document(string groupVersionPath)
    {
        var count = registry.All.Count;
        if (_v3.TryGetValue(groupVersionPath, out var cached) && cached.Resources == count)
        {
            return cached.Document;
        }

        var document = BuildV3Document(groupVersionPath);
        _v3[groupVersionPath] = (count, document);
        return document;
    }

    private JsonObject? BuildV3Document(string groupVersionPath)
    {
        var parts = groupVersionPath.Split('/');
        var (group, version) = parts switch
        {
            ["api", var v] => (string.Empty, v),
            ["apis", var g, var v] => (g, v),
            _ => (null, null),
        };
        if (group is null)
        {
            return null;
        }

        var resources = registry.InGroupVersion(group, version!);
        if (resources.Count == 0)
        {
            return null;
        }

        var paths = new JsonObject();
        var schemas = new JsonObject();
        var models = new ModelSchemas(v3: true);
        foreach (var r in resources)
        {
            // Answered kinds (reviews, bindings) are created only: a schema, no PATCH (as kube's document).
            if (r.Stored)
            {
                paths[ItemPath(r)] = new JsonObject { ["patch"] = PatchOperationV3(r) };
            }

            models.AddKind(schemas, r, SchemaName(r), KindExtensions(r));
        }

        return new JsonObject
        {
            ["openapi"] = "3.0.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = VersionInfo.KubernetesVersion },
            ["paths"] = paths,
            ["components"] = new JsonObject { ["schemas"] = schemas },
        };
    }

    /// <summary>The Swagger 2.0 document as JSON (served encoded by <see cref="GnosticEncoder"/>).</summary>
    public JsonObject V2Document()
    {
        var count = registry.All.Count;
        if (_v2 is { } cached && cached.Resources == count)
        {
            return cached.Document;
        }

        var document = BuildV2Document();
        _v2 = (count, document);
        return document;
    }

    private JsonObject BuildV2Document()
    {
        var paths = new JsonObject();
        var definitions = new JsonObject();
        var models = new ModelSchemas(v3: false);
        foreach (var r in registry.All)
        {
            models.AddKind(definitions, r, SchemaName(r), KindExtensions(r));
            if (!r.Stored)
            {
                continue;
            }

            paths[ItemPath(r)] = new JsonObject
            {
                ["patch"] = new JsonObject
                {
                    ["consumes"] = new JsonArray("application/json-patch+json", "application/merge-patch+json", "application/strategic-merge-patch+json", "application/apply-patch+yaml"),
                    ["produces"] = new JsonArray("application/json", "application/yaml"),
                    ["operationId"] = $"patch{r.Kind}",
                    ["parameters"] = new JsonArray(new JsonObject
                    {
                        ["name"] = "fieldValidation",
                        ["in"] = "query",
                        ["type"] = "string",
                        ["uniqueItems"] = true,
                        ["description"] = FieldValidationDescription,
                    }),
                    ["responses"] = new JsonObject { ["200"] = new JsonObject { ["description"] = "OK", ["schema"] = new JsonObject { ["$ref"] = $"#/definitions/{SchemaName(r)}" } } },
                    ["x-kubernetes-action"] = "patch",
                    ["x-kubernetes-group-version-kind"] = Gvk(r),
                },
            };
        }

        return new JsonObject
        {
            ["swagger"] = "2.0",
            ["info"] = new JsonObject { ["title"] = "Kubernetes", ["version"] = VersionInfo.KubernetesVersion },
            ["paths"] = paths,
            ["definitions"] = definitions,
        };
    }

    private const string FieldValidationDescription =
        "fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict.";

    private static JsonObject PatchOperationV3(ResourceDefinition r) => new()
    {
        ["operationId"] = $"patch{r.Kind}",
        ["parameters"] = new JsonArray(new JsonObject
        {
            ["name"] = "fieldValidation",
            ["in"] = "query",
            ["description"] = FieldValidationDescription,
            ["schema"] = new JsonObject { ["type"] = "string", ["uniqueItems"] = true },
        }),
        ["responses"] = new JsonObject
        {
            ["200"] = new JsonObject
            {
                ["description"] = "OK",
                ["content"] = new JsonObject { ["application/json"] = new JsonObject { ["schema"] = new JsonObject { ["$ref"] = $"#/components/schemas/{SchemaName(r)}" } } },
            },
        },
        ["x-kubernetes-action"] = "patch",
        ["x-kubernetes-group-version-kind"] = Gvk(r),
    };

    /// <summary>What every kind's schema carries besides its own (described) schema.</summary>
    private static JsonObject KindExtensions(ResourceDefinition r) => new()
    {
        ["x-kubernetes-group-version-kind"] = new JsonArray(Gvk(r)),
    };

    private static JsonObject Gvk(ResourceDefinition r) => new() { ["group"] = r.Group, ["kind"] = r.Kind, ["version"] = r.Version };

    private static string ItemPath(ResourceDefinition r)
    {
        var root = r.Group.Length == 0 ? $"/api/{r.Version}" : $"/apis/{r.Group}/{r.Version}";
        return r.Namespaced ? $"{root}/namespaces/{{namespace}}/{r.Plural}/{{name}}" : $"{root}/{r.Plural}/{{name}}";
    }

    /// <summary>Kubernetes-style definition names: io.k8s.api.{group}.{version}.{Kind}.</summary>
    public static string SchemaName(ResourceDefinition r)
    {
        var group = r.Group.Length == 0 ? "core" : r.Group.Split('.')[0];
        return $"io.k8s.api.{group}.{r.Version}.{r.Kind}";
    }

    /// <summary>
    /// The content hash used in serverRelativeURL and as the ETag. Built documents are never changed, so
    /// a document's hash is computed once (the index names every group-version's hash on each request).
    /// </summary>
    public static string Hash(JsonNode document) => Hashes.GetValue(document, static d =>
        Convert.ToHexString(SHA512.HashData(Encoding.UTF8.GetBytes(d.ToJsonString(JsonDefaults.Options))))[..128]);

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonNode, string> Hashes = [];
}
