using System.Collections.Frozen;

namespace Lotse.ApiServer.Protobuf;

/// <summary>One field of a message in <c>KubeMessages.txt</c>: its number, JSON name, type and how it is written.</summary>
internal sealed record FieldDef(int Number, string JsonName, string Type, bool Repeated, bool Keep, bool Inline);

/// <summary>
/// The protobuf wire format of the built-in kinds, from the table the project keeps in
/// <c>KubeMessages.txt</c> (an embedded resource; its header explains the notation): which message a
/// top-level kind is, and each message's fields by number.
/// </summary>
internal sealed class MessageTable
{
    private MessageTable(FrozenDictionary<string, FrozenDictionary<int, FieldDef>> messages, FrozenDictionary<(string ApiVersion, string Kind), string> kinds)
    {
        Messages = messages;
        Kinds = kinds;
    }

    public static MessageTable Instance { get; } = Load();

    public FrozenDictionary<string, FrozenDictionary<int, FieldDef>> Messages { get; }

    public FrozenDictionary<(string ApiVersion, string Kind), string> Kinds { get; }

    private static MessageTable Load()
    {
        using var stream = typeof(MessageTable).Assembly.GetManifestResourceStream("Lotse.ApiServer.Protobuf.KubeMessages.txt")
            ?? throw new InvalidOperationException("KubeMessages.txt is not embedded");
        using var reader = new StreamReader(stream);
        return Parse(reader.ReadToEnd());
    }

    internal static MessageTable Parse(string text)
    {
        var messages = new Dictionary<string, Dictionary<int, FieldDef>>(StringComparer.Ordinal);
        var kinds = new Dictionary<(string, string), string>();
        Dictionary<int, FieldDef>? current = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            switch (parts[0])
            {
                case "kind":
                    kinds[(parts[1], parts[2])] = parts[3];
                    break;
                case "message":
                    current = [];
                    messages[parts[1]] = current;
                    break;
                default:
                    var repeated = parts[2] == "repeated";
                    var type = repeated ? parts[3] : parts[2];
                    var flags = parts.Skip(repeated ? 4 : 3).ToHashSet(StringComparer.Ordinal);
                    current![int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture)] = new FieldDef(
                        int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), parts[1], type, repeated, flags.Contains("keep"), flags.Contains("inline"));
                    break;
            }
        }

        return new MessageTable(
            messages.ToFrozenDictionary(m => m.Key, m => m.Value.ToFrozenDictionary(), StringComparer.Ordinal),
            kinds.ToFrozenDictionary());
    }
}
