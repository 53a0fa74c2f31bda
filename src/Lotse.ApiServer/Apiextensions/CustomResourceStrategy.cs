using System.Text.Json.Nodes;
using Lotse.ApiServer.Apiextensions.Cel;
using Lotse.ApiServer.Errors;
using Lotse.ApiServer.Registry;

namespace Lotse.ApiServer.Apiextensions;

/// <summary>
/// How custom objects of one served version are written (kube's customresource strategy): unknown
/// fields pruned, defaults applied, the schema validated; generation follows spec changes; with a
/// status subresource the main resource and <c>/status</c> each change only their part (the generic
/// store does the split). The schema's <c>x-kubernetes-validations</c> are compiled once, on first
/// use, and run after the schema on every write (see Cel/).
/// </summary>
public sealed class CustomResourceStrategy(JsonObject? schema) : ResourceStrategy
{
    private readonly Lazy<CelValidator?> _rules = new(() => CelValidator.For(schema));

    public override bool TracksGeneration => true;

    public override void PrepareForCreate(JsonObject obj) => Normalize(obj);

    public override void PrepareForUpdate(JsonObject obj, JsonObject old) => Normalize(obj);

    public override void Validate(JsonObject obj, List<FieldError> errors)
    {
        if (schema is not null)
        {
            StructuralSchema.Validate(schema, obj, FieldPath.Root(string.Empty), errors);
            ListTypes.ValidateUniqueness(schema, obj, errors);
        }

        CelRules.Validate(_rules.Value, obj, null, errors);
    }

    public override void ValidateUpdate(JsonObject obj, JsonObject old, List<FieldError> errors) => ValidateWithOld(obj, old, errors);

    public override void ValidateStatusUpdate(JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        Normalize(obj);
        ValidateWithOld(obj, old, errors);
    }

    private void ValidateWithOld(JsonObject obj, JsonObject old, List<FieldError> errors)
    {
        if (schema is not null)
        {
            StructuralSchema.Validate(schema, obj, FieldPath.Root(string.Empty), errors);
        }

        CelRules.Validate(_rules.Value, obj, old, errors);
    }

    private void Normalize(JsonObject obj)
    {
        if (schema is null)
        {
            return;
        }

        StructuralSchema.Prune(schema, obj);
        StructuralSchema.ApplyDefaults(schema, obj);
    }
}
