using System.Text.Json.Nodes;
using Lotse.ApiServer.Registry;
using Lotse.ApiServer.Validation;

namespace Lotse.ApiServer.Strategies;

/// <summary>Namespaces: DNS-1123 label names, Active with the "kubernetes" finalizer at birth; spec.finalizers change only through finalize.</summary>
internal sealed class NamespaceStrategy : ResourceStrategy
{
    public override List<string> ValidateName(string name) => Names.IsDns1123Label(name);

    public override void PrepareForCreate(JsonObject obj)
    {
        obj["status"] = new JsonObject { ["phase"] = "Active" };
        obj["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") };
    }

    public override void PrepareForUpdate(JsonObject obj, JsonObject old) => obj["spec"] = old["spec"]?.DeepClone();

    public override void ApplyDefaults(JsonObject obj)
    {
        // kubernetes labels every namespace with its own name.
        if (obj["metadata"] is JsonObject metadata && metadata["name"]?.ToString() is { Length: > 0 } name)
        {
            var labels = metadata["labels"] as JsonObject ?? [];
            labels["kubernetes.io/metadata.name"] = name;
            metadata["labels"] = labels;
        }
    }
}
