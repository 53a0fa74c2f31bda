using System.Text.Encodings.Web;
using System.Text.Json;

namespace Lotse.ApiServer;

/// <summary>How the server writes JSON: compact, and without escaping characters Go's encoder leaves alone.</summary>
public static class JsonDefaults
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = false,
    };

    public static JsonWriterOptions WriterOptions { get; } = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = true,
    };
}
