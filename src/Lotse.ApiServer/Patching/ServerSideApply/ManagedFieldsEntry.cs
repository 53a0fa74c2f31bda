using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching.ServerSideApply;

/// <summary>One <c>metadata.managedFields</c> entry: who wrote which fields, how (Apply or Update), through which version and subresource.</summary>
public sealed class ManagedFieldsEntry
{
    public required string Manager { get; init; }

    public required string Operation { get; init; }

    public string ApiVersion { get; set; } = string.Empty;

    public string? Time { get; set; }

    public string? Subresource { get; init; }

    public required FieldSet Fields { get; set; }

    public bool Same(string manager, string operation, string? subresource) =>
        Manager == manager && Operation == operation && (Subresource ?? string.Empty) == (subresource ?? string.Empty);

    public static List<ManagedFieldsEntry> Read(JsonObject obj) =>
        [.. (obj["metadata"]?["managedFields"] as JsonArray ?? []).OfType<JsonObject>().Select(e => new ManagedFieldsEntry
        {
            Manager = e["manager"]?.GetValue<string>() ?? string.Empty,
            Operation = e["operation"]?.GetValue<string>() ?? "Update",
            ApiVersion = e["apiVersion"]?.GetValue<string>() ?? string.Empty,
            Time = e["time"]?.GetValue<string>(),
            Subresource = e["subresource"]?.GetValue<string>(),
            Fields = FieldSet.FromJson(e["fieldsV1"]),
        })];

    /// <summary>Writes the entries onto the object (entries owning nothing are dropped; none at all removes the field).</summary>
    public static void Write(JsonObject obj, IEnumerable<ManagedFieldsEntry> entries)
    {
        var metadata = obj["metadata"] as JsonObject ?? [];
        obj["metadata"] = metadata;
        var kept = entries.Where(e => !e.Fields.IsEmpty).ToList();
        if (kept.Count == 0)
        {
            metadata.Remove("managedFields");
            return;
        }

        metadata["managedFields"] = new JsonArray([.. kept.Select(e =>
        {
            var json = new JsonObject
            {
                ["manager"] = e.Manager,
                ["operation"] = e.Operation,
                ["apiVersion"] = e.ApiVersion,
                ["time"] = e.Time,
                ["fieldsType"] = "FieldsV1",
                ["fieldsV1"] = e.Fields.ToJson(),
            };
            if (e.Subresource is { Length: > 0 } subresource)
            {
                json["subresource"] = subresource;
            }

            return (JsonNode)json;
        })]);
    }
}
