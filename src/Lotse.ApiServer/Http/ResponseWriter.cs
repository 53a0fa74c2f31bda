using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Storage;
using Lotse.ApiServer.Tables;
using Lotse.ApiServer.WatchCache;
using Microsoft.AspNetCore.Http;

namespace Lotse.ApiServer.Http;

/// <summary>
/// Writes API responses in the negotiated format. Lists of JSON objects are written from the cache's
/// pre-serialized bytes without re-encoding; tables and metadata views are built per request.
/// </summary>
public sealed class ResponseWriter(TimeProvider time)
{
    private static readonly byte[] Comma = ","u8.ToArray();

    public static async Task WriteJsonAsync(HttpResponse response, int status, JsonNode node, CancellationToken cancellationToken, string contentType = "application/json")
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        await response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(node, JsonDefaults.Options), cancellationToken);
    }

    public async Task WriteObjectAsync(HttpResponse response, int status, ResourceDefinition resource, CachedObject obj, OutputFormat format, string? includeObject, CancellationToken cancellationToken)
    {
        obj = resource.Present(obj);
        response.StatusCode = status;
        response.ContentType = format.ContentType;
        switch (format.Kind)
        {
            case OutputKind.Json:
                await response.Body.WriteAsync(obj.Json, cancellationToken);
                break;
            case OutputKind.Yaml:
                await response.WriteAsync(YamlJson.ToYaml(obj.Object), cancellationToken);
                break;
            case OutputKind.Table:
                await WriteNodeAsync(response, Table(resource, [obj], format, includeObject, obj.Revision, null, null, withColumns: true), cancellationToken);
                break;
            default:
                await WriteNodeAsync(response, PartialObjectMetadata(obj.Object, format.TableVersion), cancellationToken);
                break;
        }
    }

    public async Task WriteListAsync(HttpResponse response, ResourceDefinition resource, ListResult list, OutputFormat format, string? includeObject, CancellationToken cancellationToken)
    {
        if (resource.Conversion is not null)
        {
            list = list with { Items = [.. list.Items.Select(resource.Present)] };
        }

        response.StatusCode = 200;
        response.ContentType = format.ContentType;
        var revision = list.Revision.ToString(CultureInfo.InvariantCulture);
        switch (format.Kind)
        {
            case OutputKind.Json:
                var head = new StringBuilder();
                head.Append("{\"kind\":\"").Append(resource.Kind).Append("List\",\"apiVersion\":\"").Append(resource.GroupVersion)
                    .Append("\",\"metadata\":{\"resourceVersion\":\"").Append(revision).Append('"');
                if (list.Continue is not null)
                {
                    head.Append(",\"continue\":").Append(JsonSerializer.Serialize(list.Continue, JsonDefaults.Options));
                }

                if (list.RemainingItemCount is { } remaining)
                {
                    head.Append(",\"remainingItemCount\":").Append(remaining.ToString(CultureInfo.InvariantCulture));
                }

                head.Append("},\"items\":[");
                // Copy the cached bytes into the response pipe and flush in large slices: one write
                // per object would cost a chunk (or an HTTP/2 frame) and an await each.
                var pipe = response.BodyWriter;
                pipe.Write(Encoding.UTF8.GetBytes(head.ToString()));
                var pending = 0L;
                for (var i = 0; i < list.Items.Count; i++)
                {
                    if (i > 0)
                    {
                        pipe.Write(Comma);
                    }

                    var json = list.Items[i].Json;
                    pipe.Write(json);
                    pending += json.Length;
                    if (pending > 256 * 1024)
                    {
                        await pipe.FlushAsync(cancellationToken);
                        pending = 0;
                    }
                }

                pipe.Write("]}"u8);
                await pipe.FlushAsync(cancellationToken);
                break;
            case OutputKind.Yaml:
                var yamlList = new JsonObject
                {
                    ["kind"] = resource.Kind + "List",
                    ["apiVersion"] = resource.GroupVersion,
                    ["metadata"] = ListMeta(list.Revision, list.Continue, list.RemainingItemCount),
                    ["items"] = new JsonArray([.. list.Items.Select(o => (JsonNode)o.CloneObject())]),
                };
                await response.WriteAsync(YamlJson.ToYaml(yamlList), cancellationToken);
                break;
            case OutputKind.Table:
                await WriteNodeAsync(response, Table(resource, list.Items, format, includeObject, list.Revision, list.Continue, list.RemainingItemCount, withColumns: true), cancellationToken);
                break;
            default:
                var metaList = new JsonObject
                {
                    ["kind"] = "PartialObjectMetadataList",
                    ["apiVersion"] = "meta.k8s.io/" + format.TableVersion,
                    ["metadata"] = ListMeta(list.Revision, list.Continue, list.RemainingItemCount),
                    ["items"] = new JsonArray([.. list.Items.Select(o => (JsonNode)PartialObjectMetadata(o.Object, format.TableVersion))]),
                };
                await WriteNodeAsync(response, metaList, cancellationToken);
                break;
        }
    }

    private static Task WriteNodeAsync(HttpResponse response, JsonNode node, CancellationToken cancellationToken) =>
        response.Body.WriteAsync(JsonSerializer.SerializeToUtf8Bytes(node, JsonDefaults.Options), cancellationToken).AsTask();

    private static JsonObject ListMeta(long revision, string? @continue, long? remaining)
    {
        var meta = new JsonObject { ["resourceVersion"] = revision.ToString(CultureInfo.InvariantCulture) };
        if (@continue is not null)
        {
            meta["continue"] = @continue;
        }

        if (remaining is not null)
        {
            meta["remainingItemCount"] = remaining;
        }

        return meta;
    }

    public static JsonObject PartialObjectMetadata(JsonObject obj, string version = "v1") => new()
    {
        ["kind"] = "PartialObjectMetadata",
        ["apiVersion"] = "meta.k8s.io/" + version,
        ["metadata"] = obj["metadata"]?.DeepClone(),
    };

    /// <summary>A meta.k8s.io Table of the objects (kubernetes' TableConvertor); watch events omit the column definitions after the first.</summary>
    public JsonObject Table(ResourceDefinition resource, IEnumerable<CachedObject> objects, OutputFormat format, string? includeObject, long revision, string? @continue, long? remaining, bool withColumns)
    {
        var convertor = resource.Table ?? DefaultTableConvertor.Instance;
        var now = time.GetUtcNow();
        var rows = new JsonArray();
        foreach (var o in objects)
        {
            var row = new JsonObject { ["cells"] = new JsonArray([.. convertor.Cells(o.Object, now).Select(Cell)]) };
            switch (includeObject)
            {
                case "None":
                    break;
                case "Object":
                    row["object"] = o.CloneObject();
                    break;
                default:
                    row["object"] = PartialObjectMetadata(o.Object);
                    break;
            }

            rows.Add(row);
        }

        var table = new JsonObject
        {
            ["kind"] = "Table",
            ["apiVersion"] = "meta.k8s.io/" + format.TableVersion,
            ["metadata"] = ListMeta(revision, @continue, remaining),
        };
        if (withColumns)
        {
            table["columnDefinitions"] = new JsonArray([.. convertor.Columns.Select(c => (JsonNode)new JsonObject
            {
                ["name"] = c.Name,
                ["type"] = c.Type,
                ["format"] = c.Format,
                ["description"] = c.Description,
                ["priority"] = c.Priority,
            })]);
        }

        table["rows"] = rows;
        return table;
    }

    private static JsonNode? Cell(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        long l => JsonValue.Create(l),
        int i => JsonValue.Create(i),
        bool b => JsonValue.Create(b),
        double d => JsonValue.Create(d),
        JsonNode n => n.DeepClone(),
        _ => JsonValue.Create(value.ToString()),
    };
}
