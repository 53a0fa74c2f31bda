using System.Globalization;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Tables;

namespace Lotse.ApiServer.Apiextensions;

/// <summary>
/// A custom resource's table: Name, then its <c>additionalPrinterColumns</c> (JSONPath into the
/// object, simple dotted paths; <c>date</c> columns print as ages), or Name and Age when it has none
/// — as kube's CRD table convertor.
/// </summary>
public static class PrinterColumns
{
    public static ITableConvertor For(JsonArray? columns)
    {
        var list = new List<(TableColumn, Func<JsonObject, DateTimeOffset, object?>)>
        {
            (new TableColumn("Name", "string", Describe.Name, 0, "name"), (o, _) => J.Str(o, "metadata.name")),
        };
        var specified = (columns ?? []).OfType<JsonObject>().ToList();
        if (specified.Count == 0)
        {
            list.Add((new TableColumn("Age", "date", Describe.CreatedAt), (o, n) => HumanDuration.Since(J.Str(o, "metadata.creationTimestamp"), n)));
            return new ColumnsConvertor(list);
        }

        foreach (var column in specified)
        {
            var name = column["name"]?.GetValue<string>() ?? string.Empty;
            var type = column["type"]?.GetValue<string>() ?? "string";
            var path = (column["jsonPath"]?.GetValue<string>() ?? string.Empty).TrimStart('.').Trim('{', '}').TrimStart('.');
            var priority = column["priority"]?.GetValue<int>() ?? 0;
            var description = column["description"]?.GetValue<string>() ?? string.Empty;
            list.Add((new TableColumn(name, type, description, priority, column["format"]?.GetValue<string>() ?? string.Empty), (o, n) => Cell(J.At(o, path), type, n)));
        }

        return new ColumnsConvertor(list);
    }

    private static object? Cell(JsonNode? value, string type, DateTimeOffset now) => value switch
    {
        null => null,
        JsonValue v when type == "date" && v.TryGetValue<string>(out var timestamp) => HumanDuration.Since(timestamp, now),
        JsonValue v when type == "integer" && v.TryGetValue<long>(out var integer) => integer,
        JsonValue v when type == "number" && v.TryGetValue<double>(out var number) => number,
        JsonValue v when type == "boolean" && v.TryGetValue<bool>(out var flag) => flag,
        JsonValue v when v.TryGetValue<string>(out var text) => text,
        _ => value.ToJsonString(),
    };

}
