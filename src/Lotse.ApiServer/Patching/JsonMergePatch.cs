using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching;

/// <summary>
/// RFC 7386 JSON merge patch (what <c>kubectl label</c>, <c>annotate</c>, <c>scale</c> and
/// <c>patch --type merge</c> send): an object patch merges member by member, a null member removes the
/// member, anything else — arrays included — replaces the target. Neither input is changed; the result
/// shares no nodes with them.
/// </summary>
public static class JsonMergePatch
{
    public static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject patchObject)
        {
            return patch?.DeepClone();
        }

        // RFC 7386 §2: a non-object target is replaced by an empty object before merging.
        var result = target is JsonObject targetObject ? (JsonObject)targetObject.DeepClone() : [];
        MergeInto(result, patchObject);
        return result;
    }

    /// <summary>Merges <paramref name="patch"/> into <paramref name="target"/>, which the caller owns.</summary>
    private static void MergeInto(JsonObject target, JsonObject patch)
    {
        foreach (var (name, value) in patch)
        {
            if (value is null)
            {
                target.Remove(name);
            }
            else if (value is JsonObject child)
            {
                if (target[name] is not JsonObject existing)
                {
                    existing = [];
                    target[name] = existing;
                }

                MergeInto(existing, child);
            }
            else
            {
                target[name] = value.DeepClone();
            }
        }
    }
}
