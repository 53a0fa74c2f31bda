namespace Lotse.ApiServer.Tables;

/// <summary>A <c>TableColumnDefinition</c>: type is string|integer|number|boolean|date; priority 0 shows by default, 1 only with <c>-o wide</c>.</summary>
public sealed record TableColumn(string Name, string Type, string Description, int Priority = 0, string Format = "");
