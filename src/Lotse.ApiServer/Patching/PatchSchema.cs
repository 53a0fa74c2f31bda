using System.Collections.Frozen;

namespace Lotse.ApiServer.Patching;

/// <summary>
/// The strategic-merge-patch metadata of a kind: for each field that carries a <c>patchStrategy</c> or sits
/// above one, how it patches and what is below it. It plays the part of the struct tags kube-apiserver
/// reads from its Go types (apimachinery's <c>LookupPatchMeta</c>); fields it does not name are untagged.
/// </summary>
public sealed class PatchSchema
{
    private readonly FrozenDictionary<string, PatchField> _fields;

    internal PatchSchema(IEnumerable<KeyValuePair<string, PatchField>> fields, PatchField? elements = null)
    {
        _fields = fields.ToFrozenDictionary(StringComparer.Ordinal);
        Elements = elements;
    }

    /// <summary>No metadata at all: every map merges and every list is replaced.</summary>
    public static PatchSchema Empty { get; } = new([]);

    public bool IsEmpty => _fields.Count == 0 && Elements is null;

    /// <summary>The fields this schema names.</summary>
    public IEnumerable<string> FieldNames => _fields.Keys;

    /// <summary>
    /// For a map whose keys are data, not field names (a custom resource's <c>additionalProperties</c>, or the
    /// unknown fields it preserves): the metadata of every value. Null for structs.
    /// </summary>
    public PatchField? Elements { get; }

    /// <summary>The metadata of a direct child field (the element metadata, else <see cref="PatchField.Untagged"/>, when not named).</summary>
    public PatchField Field(string name) => _fields.GetValueOrDefault(name) ?? Elements ?? PatchField.Untagged;

    /// <summary>Whether a child is a map element (its key is data) rather than a named field.</summary>
    public bool IsElement(string name) => Elements is not null && !_fields.ContainsKey(name);

    /// <summary>
    /// The metadata at a dotted path of field names, list items skipped — <c>spec.template.spec.containers.env</c>
    /// is the env list of every container. Untagged when any step is not named.
    /// </summary>
    public PatchField Lookup(string path)
    {
        var field = PatchField.Untagged;
        var schema = this;
        foreach (var name in path.Split('.'))
        {
            field = schema.Field(name);
            schema = field.Schema;
        }

        return field;
    }

    /// <summary>
    /// The metadata of a built-in kind (kinds are version-independent here: a field keeps its tags across
    /// versions). A built-in group's kind the table does not describe still gets <c>metadata</c>, since every
    /// Kubernetes type embeds ObjectMeta; any other group (custom resources) gets <see cref="Empty"/>.
    /// </summary>
    public static PatchSchema For(string group, string kind) => BuiltInPatchSchemas.For(group, kind);
}
