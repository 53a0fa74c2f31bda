using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tables;

/// <summary>A table printer made of columns, each with a function computing its cell.</summary>
public sealed class ColumnsConvertor(IReadOnlyList<(TableColumn Column, Func<JsonObject, DateTimeOffset, object?> Cell)> columns) : ITableConvertor
{
    public IReadOnlyList<TableColumn> Columns { get; } = [.. columns.Select(c => c.Column)];

    public object?[] Cells(JsonObject obj, DateTimeOffset now) => [.. columns.Select(c => c.Cell(obj, now))];
}
