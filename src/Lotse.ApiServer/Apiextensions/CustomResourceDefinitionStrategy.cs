using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;
using static Lotse.ApiServer.Strategies.JsonEdit;

namespace Lotse.ApiServer.Apiextensions;

/// <summary>
/// apiextensions.k8s.io/v1 CustomResourceDefinitions (kube's apiextensions validation, the parts
/// that decide whether the server can serve the kind): the name is <c>plural.group</c>, the group a
/// domain, names complete, scope Namespaced or Cluster and fixed, exactly one storage version, and a
/// structural schema for every version. New definitions carry the clean-up finalizer, so deleting
/// one first deletes its objects.
/// </summary>
public sealed class CustomResourceDefinitionStrategy : ResourceStrategy
{
    public const string CleanupFinalizer = "customresourcecleanup.apiextensions.k8s.io";

    public override bool TracksGeneration => true;

    public override void PrepareForCreate(JsonObject obj)
    {
        var metadata = Obj(obj, "metadata");
        var finalizers = metadata["finalizers"] as JsonArray ?? [];
        if (!finalizers.Any(f => f?.GetValue<string>() == CleanupFinalizer))
        {
            finalizers.Add(CleanupFinalizer);
        }

        metadata["finalizers"] = finalizers;
        obj["status"] = new JsonObject
        {
            ["conditions"] = new JsonArray(),
            ["acceptedNames"] = new JsonObject { ["plural"] = string.Empty, ["kind"] = string.Empty },
            ["storedVersions"] = new JsonArray(),
        };
    }

    public override void ApplyDefaults(JsonObject obj)
    {
        var spec = Obj(obj, "spec");
        var names = Obj(spec, "names");
        if (Str(names, "kind") is { Length: > 0 } kind)
        {
            Default(names, "listKind", kind + "List");
            Default(names, "singular", kind.ToLowerInvariant());
        }

        Default(Obj(spec, "conversion"), "strategy", "None");
    }

    public override void Validate(JsonObject obj, List<FieldError> errors) => Validate(obj, null, errors);

    private static void Validate(JsonObject obj, JsonObject? old, List<FieldError> errors)
    {
        var spec = obj["spec"] as JsonObject;
        var path = FieldPath.Root("spec");
        var group = Str(spec, "group") ?? string.Empty;
        var names = spec?["names"] as JsonObject;
        var plural = Str(names, "plural") ?? string.Empty;
        if (group.Length == 0)
        {
            errors.Add(FieldError.Required(path.Child("group")));
        }
        else if (!group.Contains('.', StringComparison.Ordinal))
        {
            errors.Add(FieldError.Invalid(path.Child("group"), group, "should be a domain with at least one dot"));
        }

        foreach (var field in (string[])["plural", "singular", "kind", "listKind"])
        {
            var value = Str(names, field);
            if (string.IsNullOrEmpty(value))
            {
                errors.Add(FieldError.Required(path.Child("names").Child(field)));
            }
            else if (field is "plural" or "singular" && Validation.Names.IsDns1035Label(value) is { Count: > 0 } problems)
            {
                errors.Add(FieldError.Invalid(path.Child("names").Child(field), value, string.Join(", ", problems)));
            }
        }

        var name = Str(obj["metadata"] as JsonObject, "name") ?? string.Empty;
        if (plural.Length > 0 && group.Length > 0 && name != $"{plural}.{group}")
        {
            errors.Add(FieldError.Invalid(FieldPath.Root("metadata").Child("name"), name, "must be spec.names.plural+\".\"+spec.group"));
        }

        var scope = Str(spec, "scope");
        if (scope is not ("Namespaced" or "Cluster"))
        {
            errors.Add(scope is null ? FieldError.Required(path.Child("scope")) : FieldError.NotSupported(path.Child("scope"), scope, ["Cluster", "Namespaced"]));
        }

        var versions = (spec?["versions"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        if (versions.Count == 0)
        {
            errors.Add(FieldError.Required(path.Child("versions"), "must have exactly one version marked as storage version"));
            return;
        }

        if (versions.Count(v => v["storage"].AsBoolean() == true) != 1)
        {
            errors.Add(FieldError.Invalid(path.Child("versions"), spec!["versions"], "must have exactly one version marked as storage version"));
        }

        for (var i = 0; i < versions.Count; i++)
        {
            var versionPath = path.Child("versions").Index(i);
            if (string.IsNullOrEmpty(Str(versions[i], "name")))
            {
                errors.Add(FieldError.Required(versionPath.Child("name")));
            }

            if (versions[i]["schema"]?["openAPIV3Schema"] is not JsonObject schema)
            {
                errors.Add(FieldError.Required(versionPath.Child("schema").Child("openAPIV3Schema"), "schemas are required"));
                continue;
            }

            StructuralSchema.CheckStructural(schema, versionPath.Child("schema").Child("openAPIV3Schema"), errors);

            // kube ratchets two list-type rules: an update need not meet them if the stored definition did not.
            var stored = (old?["spec"]?["versions"] as JsonArray ?? []).OfType<JsonObject>()
                .Select(v => v["schema"]?["openAPIV3Schema"] as JsonObject).OfType<JsonObject>().Select(ListTypes.Ratcheted).ToList();
            ListTypes.CheckSchema(schema, versionPath.Child("schema").Child("openAPIV3Schema"), errors,
                requireAtomicSetItems: !stored.Any(s => s.NonAtomicSetItems), requireMapKeysSet: !stored.Any(s => s.MapKeysSet));
        }

        Cel.CelRules.CheckDefinition(versions, errors);
    }

    public override void ValidateUpdate(JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        Validate(obj, old, errors);
        if (Str(obj["spec"] as JsonObject, "scope") is { } scope && Str(old["spec"] as JsonObject, "scope") is { } before && scope != before)
        {
            errors.Add(FieldError.Invalid(FieldPath.Root("spec").Child("scope"), scope, "field is immutable"));
        }
    }
}
