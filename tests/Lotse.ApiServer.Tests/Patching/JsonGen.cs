using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;

namespace Lotse.ApiServer.Tests.Patching;

/// <summary>Small random JSON documents over a handful of member names, so patches and targets overlap.</summary>
internal static class JsonGen
{
    private static readonly string[] Names = ["a", "b", "c", "d"];

    public static Gen<JsonNode?> Scalar() => Gen.OneOf(
        Gen.Choose(-2, 2).Select(i => (JsonNode?)JsonValue.Create(i)),
        Gen.Elements("x", "y", "$").Select(s => (JsonNode?)JsonValue.Create(s)),
        Gen.Elements(true, false).Select(b => (JsonNode?)JsonValue.Create(b)),
        Gen.Choose(0, 0).Select(_ => (JsonNode?)null));

    /// <summary>Arrays hold scalars only.</summary>
    public static Gen<JsonNode?> Array() =>
        Gen.Choose(0, 3).SelectMany(n => Gen.ArrayOf(Scalar(), n)).Select(items => (JsonNode?)new JsonArray(items));

    public static Gen<JsonNode?> Value(int depth, bool nullMembers) => depth <= 0
        ? Gen.OneOf(Scalar(), Array())
        : Gen.Frequency(
            (3, Scalar()),
            (1, Array()),
            (2, Object(depth - 1, nullMembers).Select(o => (JsonNode?)o)));

    public static Gen<JsonObject> Object(int depth, bool nullMembers) =>
        Gen.SubListOf(Names).SelectMany(names =>
            Gen.ArrayOf(Value(depth, nullMembers), names.Count).Select(values =>
            {
                var result = new JsonObject();
                for (var i = 0; i < names.Count; i++)
                {
                    if (values[i] is not null || nullMembers)
                    {
                        result[names[i]] = values[i];
                    }
                }

                return result;
            }));
}
