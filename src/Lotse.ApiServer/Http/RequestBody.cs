using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lotse.ApiServer.Errors;
using Microsoft.AspNetCore.Http;
using YamlDotNet.Core;

namespace Lotse.ApiServer.Http;

/// <summary>Reads request bodies: the size limit (kube-apiserver's 3 MiB), then JSON or YAML by Content-Type.</summary>
public static class RequestBody
{
    public const int MaxBytes = 3 * 1024 * 1024;

    /// <summary>Bodies up to this size are read to the end before a 413, so the client hears the answer instead of a reset.</summary>
    public const int DrainBytes = 16 * 1024 * 1024;

    public static async Task<byte[]> ReadBytesAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            if (request.ContentLength <= DrainBytes)
            {
                await request.Body.CopyToAsync(Stream.Null, cancellationToken);
            }

            throw StatusException.RequestEntityTooLarge($"limit is {MaxBytes}");
        }

        var buffer = new ArrayBufferWriter<byte>(request.ContentLength is > 0 and <= MaxBytes ? (int)request.ContentLength.Value : 4096);
        while (true)
        {
            var memory = buffer.GetMemory(8192);
            var read = await request.Body.ReadAsync(memory, cancellationToken);
            if (read == 0)
            {
                break;
            }

            buffer.Advance(read);
            if (buffer.WrittenCount > MaxBytes)
            {
                throw StatusException.RequestEntityTooLarge($"limit is {MaxBytes}");
            }
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The media type without parameters, lower-cased; JSON when absent.</summary>
    public static string MediaType(HttpRequest request)
    {
        var contentType = request.ContentType;
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return "application/json";
        }

        var semicolon = contentType.IndexOf(';', StringComparison.Ordinal);
        return (semicolon < 0 ? contentType : contentType[..semicolon]).Trim().ToLowerInvariant();
    }

    /// <summary>Reads an object body (create, update): JSON, YAML, or Kubernetes protobuf (what kubectl ≥ 1.32 sends for built-in kinds).</summary>
    public static async Task<JsonObject> ReadObjectAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var mediaType = MediaType(request);
        if (mediaType == "application/vnd.kubernetes.protobuf")
        {
            var body = await ReadBytesAsync(request, cancellationToken);
            try
            {
                return Protobuf.KubeProtobuf.Decode(body);
            }
            catch (FormatException e)
            {
                throw StatusException.BadRequest($"the protobuf body could not be decoded: {e.Message}");
            }
        }

        if (mediaType is not ("application/json" or "application/yaml" or "application/x-yaml" or "text/yaml"))
        {
            throw UnsupportedMediaType(mediaType);
        }

        var bytes = await ReadBytesAsync(request, cancellationToken);
        return Parse(bytes, mediaType == "application/json") as JsonObject
            ?? throw StatusException.BadRequest("the request body must be an object");
    }

    public static StatusException UnsupportedMediaType(string mediaType) =>
        StatusException.UnsupportedMediaType($"the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got \"{mediaType}\")");

    /// <summary>Parses JSON (or YAML) into nodes; malformed input is a 400 worded like kubernetes' decoder.</summary>
    public static JsonNode? Parse(byte[] bytes, bool json)
    {
        if (bytes.Length == 0)
        {
            throw StatusException.BadRequest("the request body is empty");
        }

        try
        {
            if (json || LooksLikeJson(bytes))
            {
                return JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
            }

            return YamlJson.Parse(Encoding.UTF8.GetString(bytes));
        }
        catch (JsonException ex)
        {
            throw StatusException.BadRequest($"couldn't get version/kind; json parse error: {ex.Message}");
        }
        catch (YamlException ex)
        {
            throw StatusException.BadRequest($"couldn't get version/kind; yaml parse error: line {ex.Start.Line}: {(ex.InnerException ?? ex).Message}");
        }
    }

    private static bool LooksLikeJson(byte[] bytes)
    {
        foreach (var b in bytes)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            return b is (byte)'{' or (byte)'[';
        }

        return false;
    }
}
