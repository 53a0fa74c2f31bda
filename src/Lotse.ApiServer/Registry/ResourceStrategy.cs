using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Registry;

/// <summary>
/// Per-kind rules applied by the generic handlers, like kubernetes' RESTCreateStrategy /
/// RESTUpdateStrategy: defaulting, validation and what an update may change. The generic store
/// already does what every kind shares (metadata, uid, timestamps, resourceVersion, the status
/// split for kinds with a status subresource, generation for kinds that track it); a strategy only
/// adds the kind's own rules. Objects are the JSON clients sent; strategies mutate them in place.
/// </summary>
public class ResourceStrategy
{
    public static ResourceStrategy Default { get; } = new();

    /// <summary>Whether metadata.generation is set to 1 on create and bumped when anything outside metadata and status changes.</summary>
    public virtual bool TracksGeneration => false;

    /// <summary>Whether PUT of a missing object creates it (kubernetes' AllowCreateOnUpdate).</summary>
    public virtual bool AllowCreateOnUpdate => false;

    /// <summary>The name rule of this kind (most kinds: a DNS-1123 subdomain).</summary>
    public virtual List<string> ValidateName(string name) => Validation.Names.IsDns1123Subdomain(name);

    /// <summary>Called before defaulting on create (after the generic store reset status for kinds with a status subresource): set the initial status.</summary>
    public virtual void PrepareForCreate(JsonObject obj)
    {
    }

    /// <summary>Called before defaulting on update of the main resource (status already restored from <paramref name="old"/>).</summary>
    public virtual void PrepareForUpdate(JsonObject obj, JsonObject old)
    {
    }

    /// <summary>Fills defaults (kubernetes' SetDefaults_* functions) on create and update.</summary>
    public virtual void ApplyDefaults(JsonObject obj)
    {
    }

    /// <summary>Validation of a new object (ObjectMeta is validated by the generic store).</summary>
    public virtual void Validate(JsonObject obj, List<FieldError> errors)
    {
    }

    /// <summary>Validation of an update: the new object's own rules plus what may not change (immutable fields).</summary>
    public virtual void ValidateUpdate(JsonObject obj, JsonObject old, List<FieldError> errors) => Validate(obj, errors);

    /// <summary>Validation of a status update (the generic store already kept everything but status from <paramref name="old"/>).</summary>
    public virtual void ValidateStatusUpdate(JsonObject obj, JsonObject old, List<FieldError> errors)
    {
    }
}
