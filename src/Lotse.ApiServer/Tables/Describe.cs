namespace Lotse.ApiServer.Tables;

/// <summary>Column descriptions (shown by kubectl's server-side column docs).</summary>
internal static class Describe
{
    public const string Name = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
    public const string Age = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.";
    public const string CreatedAt = Age;
}
