using System.Globalization;
using System.Text;
using k8s.Models;

namespace Lotse.Agent.Kubelet.Volumes;

/// <summary>Renders downwardAPI volume items: pod fields (labels and annotations as sorted <c>key="value"</c> lines) and container resources.</summary>
internal static class DownwardApi
{
    public static void Render(V1Pod pod, IEnumerable<V1DownwardAPIVolumeFile> items, int defaultMode, string nodeIp, string podIp, IDictionary<string, FilePayload> payload)
    {
        foreach (var item in items)
        {
            string value;
            if (item.FieldRef is { } field)
            {
                value = field.FieldPath switch
                {
                    "metadata.labels" => Map(pod.Metadata.Labels),
                    "metadata.annotations" => Map(pod.Metadata.Annotations),
                    var path => RuntimeConfigs.FieldValue(pod, path, nodeIp, podIp) ?? throw new VolumeSetupException($"unsupported fieldPath: {path}"),
                };
            }
            else if (item.ResourceFieldRef is { } resource)
            {
                var container = pod.Spec.Containers.FirstOrDefault(c => c.Name == resource.ContainerName)
                    ?? throw new VolumeSetupException($"container {resource.ContainerName} not found");
                value = RuntimeConfigs.ResourceValue(pod, container, resource) ?? string.Empty;
            }
            else
            {
                continue;
            }

            payload[item.Path] = new FilePayload(Encoding.UTF8.GetBytes(value), item.Mode ?? defaultMode);
        }
    }

    /// <summary>One <c>key="value"</c> line per entry, sorted by key, values quoted as Go's <c>%q</c>.</summary>
    public static string Map(IDictionary<string, string>? map)
    {
        var text = new StringBuilder();
        foreach (var (key, value) in (map ?? new Dictionary<string, string>()).OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            text.Append(key).Append('=').Append(Quote(value)).Append('\n');
        }

        return text.ToString().TrimEnd('\n');
    }

    private static string Quote(string value)
    {
        var text = new StringBuilder("\"");
        foreach (var c in value)
        {
            text.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                < ' ' => "\\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture),
                _ => c.ToString(),
            });
        }

        return text.Append('"').ToString();
    }
}
