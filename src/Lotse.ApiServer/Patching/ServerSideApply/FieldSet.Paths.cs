using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lotse.ApiServer.Patching.ServerSideApply;

public sealed partial class FieldSet
{
    private static readonly JsonSerializerOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The path element of a keyed list's item: <c>k:</c> and its key fields as a JSON object in name order
    /// (<c>k:{"containerPort":80,"protocol":"TCP"}</c>); a key field the item leaves out takes its default.
    /// </summary>
    internal static string ItemKey(PatchField list, JsonObject item)
    {
        var key = new JsonObject();
        foreach (var name in list.Keys.Order(StringComparer.Ordinal))
        {
            if (KeyValue(list, item, name, out var value))
            {
                key[name] = value?.DeepClone();
            }
        }

        return "k:" + key.ToJsonString(JsonOptions);
    }

    private static bool KeyValue(PatchField list, JsonObject item, string name, out JsonNode? value)
    {
        if (item.TryGetPropertyValue(name, out value))
        {
            return true;
        }

        return list.KeyDefaults?.TryGetValue(name, out value) == true;
    }

    internal static string MemberKey(JsonNode? member) => "v:" + (member?.ToJsonString(JsonOptions) ?? "null");

    /// <summary>
    /// The value at a path in an object (a field, a keyed item, a set member); false when absent. Keyed
    /// items are matched on every key field of the element.
    /// </summary>
    public static bool TryFind(JsonNode? root, string[] path, out JsonNode? value)
    {
        value = root;
        foreach (var element in path)
        {
            switch (element[0], value)
            {
                case ('f', JsonObject obj) when obj.TryGetPropertyValue(element[2..], out var field):
                    value = field;
                    break;
                case ('k', JsonArray array):
                    var key = JsonNode.Parse(element[2..]) as JsonObject ?? [];
                    value = array.OfType<JsonObject>().FirstOrDefault(i => key.All(k => JsonNode.DeepEquals(i[k.Key], k.Value)));
                    if (value is null)
                    {
                        return false;
                    }

                    break;
                case ('v', JsonArray array):
                    var member = JsonNode.Parse(element[2..]);
                    var index = IndexOf(array, member);
                    if (index < 0)
                    {
                        return false;
                    }

                    value = array[index];
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    private static int IndexOf(JsonArray array, JsonNode? member)
    {
        for (var i = 0; i < array.Count; i++)
        {
            if (JsonNode.DeepEquals(array[i], member))
            {
                return i;
            }
        }

        return -1;
    }

    /// <summary>Removes what a path names from an object (a field, a keyed item, a set member).</summary>
    public static void RemoveFrom(JsonNode? root, string[] path)
    {
        if (path.Length == 0 || !TryFind(root, path[..^1], out var parent))
        {
            return;
        }

        var last = path[^1];
        switch (last[0], parent)
        {
            case ('f', JsonObject obj):
                obj.Remove(last[2..]);
                break;
            case ('k', JsonArray array) when TryFind(array, [last], out var item) && item is not null:
                array.Remove(item);
                break;
            case ('v', JsonArray array):
                var index = IndexOf(array, JsonNode.Parse(last[2..]));
                if (index >= 0)
                {
                    array.RemoveAt(index);
                }

                break;
        }
    }

    /// <summary>
    /// The path as kube prints it in conflicts: <c>.spec.replicas</c>, <c>.spec.containers[name="web"].image</c>,
    /// <c>.spec.ports[containerPort=80,protocol="TCP"]</c>, <c>.metadata.finalizers[="x"]</c>.
    /// </summary>
    public static string Print(string[] path)
    {
        var text = new StringBuilder();
        foreach (var element in path)
        {
            switch (element[0])
            {
                case 'f':
                    text.Append('.').Append(element[2..]);
                    break;
                case 'k':
                    var key = JsonNode.Parse(element[2..]) as JsonObject ?? [];
                    text.Append('[').AppendJoin(',', key.Select(k => $"{k.Key}={k.Value?.ToJsonString(JsonOptions) ?? "null"}")).Append(']');
                    break;
                case 'v':
                    text.Append("[=").Append(element[2..]).Append(']');
                    break;
            }
        }

        return text.ToString();
    }
}
