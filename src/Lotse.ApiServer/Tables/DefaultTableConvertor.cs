namespace Lotse.ApiServer.Tables;

/// <summary>What kube-apiserver prints for kinds without a printer: Name and Created At.</summary>
public static class DefaultTableConvertor
{
    public static ITableConvertor Instance { get; } = new ColumnsConvertor(
    [
        (new TableColumn("Name", "string", Describe.Name, 0, "name"), (o, _) => J.Str(o, "metadata.name")),
        (new TableColumn("Created At", "date", Describe.CreatedAt), (o, _) => J.Str(o, "metadata.creationTimestamp")),
    ]);
}
