using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using static Lotse.ApiServer.Strategies.JsonEdit;

namespace Lotse.ApiServer.Strategies;

/// <summary>Pods: defaults, the initial Pending status with its QoS class, validation, and the narrow set of spec fields an update may change.</summary>
internal sealed class PodStrategy : ResourceStrategy
{
    public override void PrepareForCreate(JsonObject obj)
    {
        var spec = obj["spec"] as JsonObject;
        obj["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = PodSpecRules.QosClass(spec) };
    }

    public override void ApplyDefaults(JsonObject obj)
    {
        if (obj["spec"] is not JsonObject spec)
        {
            return;
        }

        PodSpecRules.ApplyDefaults(spec);
        // serviceAccountName: the ServiceAccount admission (Admission/ServiceAccountAdmission) names
        // "default" for every pod but mirror pods, which reference no account. v1 shows the name
        // twice, also as the deprecated serviceAccount.
        if (spec["serviceAccountName"] is JsonValue account)
        {
            Default(spec, "serviceAccount", account.DeepClone());
        }
        // priority and preemptionPolicy come from the Priority admission (Admission/PodPriority).
        // DefaultTolerationSeconds admission: tolerate not-ready and unreachable nodes for 300 s.
        var tolerations = spec["tolerations"] as JsonArray ?? [];
        foreach (var key in (string[])["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"])
        {
            if (!tolerations.OfType<JsonObject>().Any(t => Str(t, "key") == key && (Str(t, "effect") ?? "NoExecute") == "NoExecute"))
            {
                tolerations.Add(new JsonObject { ["key"] = key, ["operator"] = "Exists", ["effect"] = "NoExecute", ["tolerationSeconds"] = 300 });
            }
        }

        spec["tolerations"] = tolerations;
    }

    public override void Validate(JsonObject obj, List<FieldError> errors) =>
        PodSpecRules.Validate(obj["spec"] as JsonObject, FieldPath.Root("spec"), errors, template: false);

    /// <summary>
    /// kubernetes: a pod's spec may not change after creation except container images,
    /// activeDeadlineSeconds, added tolerations and the scheduling gates; binding sets nodeName once.
    /// </summary>
    public override void ValidateUpdate(JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        Validate(obj, errors);
        if (obj["spec"] is not JsonObject spec || old["spec"] is not JsonObject oldSpec)
        {
            return;
        }

        var a = (JsonObject)spec.DeepClone();
        var b = (JsonObject)oldSpec.DeepClone();
        foreach (var copy in new[] { a, b })
        {
            foreach (var list in (string[])["containers", "initContainers"])
            {
                foreach (var c in Items(copy, list))
                {
                    c.Remove("image");
                }
            }

            copy.Remove("activeDeadlineSeconds");
            copy.Remove("tolerations");
            copy.Remove("terminationGracePeriodSeconds");
            copy.Remove("schedulingGates");
        }

        if (Str(oldSpec, "nodeName") is null)
        {
            a.Remove("nodeName");
            b.Remove("nodeName");
        }

        if (!JsonNode.DeepEquals(a, b))
        {
            errors.Add(FieldError.Forbidden(FieldPath.Root("spec"), "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"));
        }
    }
}
