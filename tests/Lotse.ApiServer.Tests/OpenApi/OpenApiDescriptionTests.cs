using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Lotse.ApiServer.OpenApi;
using Lotse.ApiServer.Protobuf;

namespace Lotse.ApiServer.Tests.OpenApi;

/// <summary>
/// The OpenAPI documents describe the built-in kinds' types and fields in kube's words (what
/// <c>kubectl explain</c> prints), in v3 (references wrapped in allOf beside the field's description),
/// in v2 as JSON, and in v2 as gnostic protobuf (what kubectl ≤ 1.28 reads).
/// </summary>
public sealed class OpenApiDescriptionTests(ApiServerFixture server) : IClassFixture<ApiServerFixture>
{
    private static string Text(JsonNode? node) => node!.GetValue<string>();

    [Fact]
    public async Task V3CoreDocument_DescribesPodAndItsFields_AndWrapsDescribedReferences()
    {
        using var client = server.Client();
        var schemas = (await ApiServerFixture.ReadAsync(await client.GetAsync("/openapi/v3/api/v1")))["components"]!["schemas"]!.AsObject();

        var pod = schemas["io.k8s.api.core.v1.Pod"]!;
        Assert.StartsWith("Pod is a collection of containers that can run on a host.", Text(pod["description"]), StringComparison.Ordinal);

        // spec: {"description": "Specification of the desired behavior of the pod…", "allOf": [{"$ref": PodSpec}]}
        var spec = pod["properties"]!["spec"]!;
        Assert.StartsWith("Specification of the desired behavior of the pod.", Text(spec["description"]), StringComparison.Ordinal);
        Assert.Null(spec["$ref"]);
        var podSpec = schemas[Text(spec["allOf"]![0]!["$ref"]).Split('/')[^1]]!;
        Assert.StartsWith("PodSpec is a description of a pod.", Text(podSpec["description"]), StringComparison.Ordinal);

        var containers = podSpec["properties"]!["containers"]!;
        Assert.StartsWith("List of containers belonging to the pod.", Text(containers["description"]), StringComparison.Ordinal);
        Assert.Equal("merge", Text(containers["x-kubernetes-patch-strategy"]));
        var container = schemas[Text(containers["items"]!["$ref"]).Split('/')[^1]]!;
        Assert.StartsWith("A single application container that you want to run within a pod.", Text(container["description"]), StringComparison.Ordinal);
        Assert.StartsWith("Container image name.", Text(container["properties"]!["image"]!["description"]), StringComparison.Ordinal);

        // Whitespace-normalized: kube's descriptions are single-spaced text, not the XML file's wrapped lines.
        Assert.DoesNotContain("\n", Text(container["properties"]!["image"]!["description"]), StringComparison.Ordinal);
        Assert.DoesNotContain("  ", Text(podSpec["properties"]!["containers"]!["description"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task V3AppsDocument_DescribesNearlyEveryField()
    {
        using var client = server.Client();
        var schemas = (await ApiServerFixture.ReadAsync(await client.GetAsync("/openapi/v3/apis/apps/v1")))["components"]!["schemas"]!.AsObject();
        var strategy = schemas["io.k8s.api.DeploymentSpec"]!["properties"]!["strategy"]!;
        Assert.StartsWith("The deployment strategy to use to replace existing pods with new ones.", Text(strategy["description"]), StringComparison.Ordinal);

        var fields = schemas.Select(s => s.Value!["properties"] as JsonObject).OfType<JsonObject>().SelectMany(p => p).ToList();
        var described = fields.Count(f => f.Value!["description"] is not null);
        Assert.True(fields.Count > 300, $"only {fields.Count} fields in apps/v1");
        Assert.True(described >= fields.Count * 0.95, $"{described} of {fields.Count} fields described: missing {string.Join(", ", fields.Where(f => f.Value!["description"] is null).Select(f => f.Key).Take(20))}");
    }

    [Fact]
    public async Task V2Document_KeepsDescriptionsBesideReferences_AsJsonAndAsGnosticProtobuf()
    {
        using var client = server.Client();
        var definitions = (await ApiServerFixture.ReadAsync(await client.GetAsync("/openapi/v2")))["definitions"]!.AsObject();
        var spec = definitions["io.k8s.api.core.v1.Pod"]!["properties"]!["spec"]!;
        Assert.StartsWith("#/definitions/", Text(spec["$ref"]), StringComparison.Ordinal);
        Assert.StartsWith("Specification of the desired behavior of the pod.", Text(spec["description"]), StringComparison.Ordinal);

        using var request = new HttpRequestMessage(HttpMethod.Get, "/openapi/v2");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(GnosticEncoder.ContentType));
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var gnostic = GnosticDefinitions(await response.Content.ReadAsByteArrayAsync());

        var pod = gnostic["io.k8s.api.core.v1.Pod"];
        Assert.StartsWith("Pod is a collection of containers", pod.Description, StringComparison.Ordinal);
        Assert.StartsWith("Specification of the desired behavior of the pod.", pod.Properties["spec"].Description, StringComparison.Ordinal);
        Assert.Equal("#/definitions/io.k8s.api.PodSpec", pod.Properties["spec"].Ref);
        var podSpec = gnostic["io.k8s.api.PodSpec"];
        Assert.StartsWith("List of containers belonging to the pod.", podSpec.Properties["containers"].Description, StringComparison.Ordinal);

        // Maps travel as additionalProperties (kubectl explain: map[string]string), numbers with their format.
        Assert.Equal("string", podSpec.Properties["nodeSelector"].AdditionalType);
        Assert.Equal("int64", podSpec.Properties["activeDeadlineSeconds"].Format);
    }

    private sealed record GnosticSchema(string Ref, string Description, string Format, string? AdditionalType, Dictionary<string, GnosticSchema> Properties);

    /// <summary>Reads openapi.v2.Document → definitions (9) → NamedSchema (name 1, Schema 2), as kubectl's gnostic decoder does.</summary>
    private static Dictionary<string, GnosticSchema> GnosticDefinitions(byte[] document)
    {
        var result = new Dictionary<string, GnosticSchema>(StringComparer.Ordinal);
        foreach (var definitions in Fields(document, 9))
        {
            foreach (var named in Fields(definitions, 1))
            {
                var (name, schema) = Named(named);
                result[name] = schema;
            }
        }

        return result;
    }

    private static (string Name, GnosticSchema Schema) Named(byte[] named)
    {
        var name = System.Text.Encoding.UTF8.GetString(Fields(named, 1).Single());
        return (name, Schema(Fields(named, 2).Single()));
    }

    private static GnosticSchema Schema(byte[] schema)
    {
        string One(int field) => Fields(schema, field).Select(b => System.Text.Encoding.UTF8.GetString(b)).SingleOrDefault() ?? string.Empty;
        var properties = Fields(schema, 25).SelectMany(p => Fields(p, 1)).Select(Named).ToDictionary(p => p.Name, p => p.Schema, StringComparer.Ordinal);
        var additional = Fields(schema, 21).SelectMany(a => Fields(a, 1)).Select(s => Fields(s, 22).SelectMany(t => Fields(t, 1)).Select(b => System.Text.Encoding.UTF8.GetString(b)).SingleOrDefault() ?? "(no type)").SingleOrDefault();
        return new GnosticSchema(One(1), One(4), One(2), additional, properties);
    }

    /// <summary>The length-delimited values of one field number in a protobuf message.</summary>
    private static List<byte[]> Fields(byte[] message, int number)
    {
        var reader = new WireReader(message);
        var values = new List<byte[]>();
        while (!reader.End)
        {
            var (n, wire) = reader.Tag();
            if (n == number && wire == 2)
            {
                values.Add(reader.Bytes());
            }
            else
            {
                reader.Skip(wire);
            }
        }

        return values;
    }
}
