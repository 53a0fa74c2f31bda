using System.Text;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Apiextensions.Cel;

/// <summary>
/// A rule's <c>fieldPath</c> (kube's ValidFieldPath): a JSON path of field (<c>.name</c>) and
/// map-key (<c>['key']</c>) steps that must lead through the schema's properties and
/// additionalProperties; normalized to the field-path text errors are reported under.
/// </summary>
public static class RuleFieldPath
{
    public static string? Normalize(string jsonPath, JsonObject schema)
    {
        var path = new StringBuilder();
        var node = schema;
        var i = 0;
        while (i < jsonPath.Length)
        {
            string name;
            if (jsonPath[i] == '.')
            {
                var end = i + 1;
                while (end < jsonPath.Length && jsonPath[end] is not ('.' or '['))
                {
                    end++;
                }

                name = jsonPath[(i + 1)..end];
                i = end;
            }
            else if (jsonPath[i] == '[' && i + 1 < jsonPath.Length && jsonPath[i + 1] == '\'')
            {
                var end = i + 2;
                var key = new StringBuilder();
                while (end < jsonPath.Length && jsonPath[end] != '\'')
                {
                    if (jsonPath[end] == '\\' && end + 1 < jsonPath.Length)
                    {
                        end++;
                    }

                    key.Append(jsonPath[end]);
                    end++;
                }

                if (end + 1 >= jsonPath.Length || jsonPath[end + 1] != ']')
                {
                    return null;
                }

                name = key.ToString();
                i = end + 2;
            }
            else
            {
                return null;
            }

            if (name.Length == 0)
            {
                return null;
            }

            if (node["properties"] is JsonObject properties)
            {
                if (properties[name] is not JsonObject property)
                {
                    return null;
                }

                path.Append(path.Length == 0 ? name : "." + name);
                node = property;
            }
            else if (node["additionalProperties"] is JsonObject additional)
            {
                path.Append('[').Append(name).Append(']');
                node = additional;
            }
            else
            {
                return null;
            }
        }

        return path.Length == 0 ? null : path.ToString();
    }
}
