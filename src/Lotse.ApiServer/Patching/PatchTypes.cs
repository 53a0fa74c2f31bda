namespace Lotse.ApiServer.Patching;

/// <summary>Maps a PATCH request's Content-Type to its <see cref="PatchType"/> and back.</summary>
public static class PatchTypes
{
    public const string JsonPatch = "application/json-patch+json";
    public const string MergePatch = "application/merge-patch+json";
    public const string StrategicMergePatch = "application/strategic-merge-patch+json";
    public const string ApplyPatchYaml = "application/apply-patch+yaml";
    public const string ApplyPatchCbor = "application/apply-patch+cbor";

    /// <summary>
    /// The patch type a Content-Type header names, or null when it names none (the caller answers 415).
    /// Parameters such as <c>; charset=utf-8</c> are ignored and the media type is case-insensitive.
    /// </summary>
    public static PatchType? FromContentType(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return null;
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        var mediaType = (semicolon < 0 ? contentType : contentType[..semicolon]).Trim();
        return mediaType.ToLowerInvariant() switch
        {
            JsonPatch => PatchType.Json,
            MergePatch => PatchType.Merge,
            StrategicMergePatch => PatchType.StrategicMerge,
            ApplyPatchYaml => PatchType.Apply,
            ApplyPatchCbor => PatchType.ApplyCbor,
            _ => null,
        };
    }

    public static string ContentType(PatchType type) => type switch
    {
        PatchType.Json => JsonPatch,
        PatchType.Merge => MergePatch,
        PatchType.StrategicMerge => StrategicMergePatch,
        PatchType.Apply => ApplyPatchYaml,
        PatchType.ApplyCbor => ApplyPatchCbor,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, null),
    };

    /// <summary>The media types a 415 lists as accepted, in kube-apiserver's order.</summary>
    public static IReadOnlyList<string> All { get; } = [JsonPatch, MergePatch, StrategicMergePatch, ApplyPatchYaml];
}
