using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Tables;

/// <summary>
/// Renders objects of one kind as rows of a <c>meta.k8s.io/v1 Table</c>, the server-side printing
/// that <c>kubectl get</c> shows (kubernetes' pkg/printers/internalversion). Cells are pre-rendered:
/// strings (AGE already as "5m"), integers (long), booleans, or null.
/// </summary>
public interface ITableConvertor
{
    IReadOnlyList<TableColumn> Columns { get; }

    object?[] Cells(JsonObject obj, DateTimeOffset now);
}
