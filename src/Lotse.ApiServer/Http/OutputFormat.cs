using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Http;

public enum OutputKind
{
    Json,
    Yaml,
    Table,
    PartialObjectMetadata,
}

/// <summary>
/// What the client asked for in Accept, kubernetes' content negotiation: the first media range the
/// server can produce wins; <c>;as=Table;g=meta.k8s.io;v=v1</c> and <c>;as=PartialObjectMetadata[List]</c>
/// select a server-side conversion; protobuf is skipped (JSON alternatives follow it in every client).
/// </summary>
public sealed record OutputFormat(OutputKind Kind, string TableVersion = "v1")
{
    public static OutputFormat Json { get; } = new(OutputKind.Json);

    public string ContentType => Kind switch
    {
        OutputKind.Yaml => "application/yaml",
        OutputKind.Table => $"application/json;as=Table;v={TableVersion};g=meta.k8s.io",
        OutputKind.PartialObjectMetadata => $"application/json;as=PartialObjectMetadata;v={TableVersion};g=meta.k8s.io",
        _ => "application/json",
    };

    public static OutputFormat Negotiate(string? accept, bool list)
    {
        if (string.IsNullOrWhiteSpace(accept))
        {
            return Json;
        }

        foreach (var range in accept.Split(','))
        {
            var parts = range.Split(';', StringSplitOptions.TrimEntries);
            var type = parts[0].ToLowerInvariant();
            string? @as = null, g = null, v = null;
            foreach (var p in parts.Skip(1))
            {
                var eq = p.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    continue;
                }

                var value = p[(eq + 1)..].Trim('"');
                switch (p[..eq].Trim().ToLowerInvariant())
                {
                    case "as": @as = value; break;
                    case "g": g = value; break;
                    case "v": v = value; break;
                }
            }

            if (type is "application/json" or "application/*" or "*/*")
            {
                if (@as is null)
                {
                    return Json;
                }

                if (g == "meta.k8s.io" && v is "v1" or "v1beta1")
                {
                    if (@as == "Table")
                    {
                        return new OutputFormat(OutputKind.Table, v);
                    }

                    if (@as == (list ? "PartialObjectMetadataList" : "PartialObjectMetadata"))
                    {
                        return new OutputFormat(OutputKind.PartialObjectMetadata, v);
                    }
                }

                continue; // a conversion we cannot do: try the next range
            }

            if (type is "application/yaml" && @as is null)
            {
                return new OutputFormat(OutputKind.Yaml);
            }
        }

        throw StatusException.NotAcceptable("only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io");
    }
}
