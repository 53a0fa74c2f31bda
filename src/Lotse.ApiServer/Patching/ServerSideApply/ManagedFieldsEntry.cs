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

    public bool IsApply => Operation == "Apply";

    /// <summary>
    /// Whether this entry is the one of that writer (kube's manager identifier): an applier has one entry
    /// whatever version it applies through, an updater one per version.
    /// </summary>
    public bool Same(string manager, string operation, string? subresource, string apiVersion) =>
        Manager == manager && Operation == operation && (Subresource ?? string.Empty) == (subresource ?? string.Empty)
        && (operation == "Apply" || ApiVersion == apiVersion);

    public static List<ManagedFieldsEntry> Read(JsonObject obj) =>
        Parse(obj["metadata"]?["managedFields"] as JsonArray) ?? [];

    /// <summary>The entries of a managedFields list (null when it is not one, or holds something that is not an entry).</summary>
    public static List<ManagedFieldsEntry>? Parse(JsonArray? list)
    {
        if (list is null)
        {
            return null;
        }

        var entries = new List<ManagedFieldsEntry>();
        foreach (var node in list)
        {
            if (node is not JsonObject e)
            {
                return null;
            }

            entries.Add(new ManagedFieldsEntry
            {
                Manager = Text(e["manager"]) ?? string.Empty,
                Operation = Text(e["operation"]) ?? "Update",
                ApiVersion = Text(e["apiVersion"]) ?? string.Empty,
                Time = Text(e["time"]),
                Subresource = Text(e["subresource"]),
                Fields = FieldSet.FromJson(e["fieldsV1"]),
            });
        }

        return entries;
    }

    private static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>
    /// Writes the entries onto the object in kube's order (operation, time, manager, version, subresource);
    /// entries owning nothing are dropped, none at all removes the field.
    /// </summary>
    public static void Write(JsonObject obj, IEnumerable<ManagedFieldsEntry> entries)
    {
        var metadata = obj["metadata"] as JsonObject ?? [];
        obj["metadata"] = metadata;
        var kept = entries.Where(e => !e.Fields.IsEmpty)
            .OrderBy(e => e.Operation, StringComparer.Ordinal)
            .ThenBy(e => e.Time ?? string.Empty, StringComparer.Ordinal)
            .ThenBy(e => e.Manager, StringComparer.Ordinal)
            .ThenBy(e => e.ApiVersion, StringComparer.Ordinal)
            .ThenBy(e => e.Subresource ?? string.Empty, StringComparer.Ordinal)
            .ToList();
        if (kept.Count == 0)
        {
            metadata.Remove("managedFields");
            return;
        }

        metadata["managedFields"] = new JsonArray([.. kept.Select(e =>
        {
            var json = new JsonObject();
            if (e.Manager.Length > 0)
            {
                json["manager"] = e.Manager;
            }

            json["operation"] = e.Operation;
            json["apiVersion"] = e.ApiVersion;
            if (e.Time is not null)
            {
                json["time"] = e.Time;
            }

            json["fieldsType"] = "FieldsV1";
            json["fieldsV1"] = e.Fields.ToJson();
            if (e.Subresource is { Length: > 0 } subresource)
            {
                json["subresource"] = subresource;
            }

            return (JsonNode)json;
        })]);
    }
}
