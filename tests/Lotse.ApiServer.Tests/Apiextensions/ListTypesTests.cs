using System.Text.Json.Nodes;
using Lotse.ApiServer.Apiextensions;
using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Tests.Apiextensions;

public sealed class ListTypesTests
{
    private static List<string> Check(string schema, bool ratchet = false)
    {
        var errors = new List<FieldError>();
        ListTypes.CheckSchema(JsonNode.Parse(schema)!.AsObject(), FieldPath.Root("s"), errors, requireAtomicSetItems: !ratchet, requireMapKeysSet: !ratchet);
        return [.. errors.Select(e => e.ToString())];
    }

    [Theory]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"bag","items":{"type":"string"}}""", "s.x-kubernetes-list-type: Unsupported value: \"bag\": supported values: \"atomic\", \"set\", \"map\"")]
    [InlineData("""{"type":"string","x-kubernetes-list-type":"set"}""", "s.type: Invalid value: \"string\": must be array if x-kubernetes-list-type is specified")]
    [InlineData("""{"x-kubernetes-list-type":"set"}""", "s.type: Required value: must be array if x-kubernetes-list-type is specified")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"map","items":{"type":"object","properties":{"name":{"type":"string"}},"required":["name"]}}""", "s.x-kubernetes-list-map-keys: Required value: must not be empty if x-kubernetes-list-type is map")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],"items":{"type":"string"}}""", "s.items.type: Invalid value: \"string\": must be object if parent array's x-kubernetes-list-type is map")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"]}""", "s.items: Required value: must have a schema if x-kubernetes-list-type is map")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["spec"],"items":{"type":"object","required":["spec"],"properties":{"spec":{"type":"object"}}}}""", "s.items.properties[spec].type: Invalid value: \"object\": must be a scalar type if parent array's x-kubernetes-list-type is map")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["nope"],"items":{"type":"object","properties":{"name":{"type":"string"}}}}""", "s.x-kubernetes-list-map-keys: Invalid value: []string{\"nope\"}: entries must all be names of item properties")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name","name"],"items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}}""", "s.x-kubernetes-list-map-keys: Invalid value: []string{\"name\", \"name\"}: must not contain duplicate entries")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],"items":{"type":"object","properties":{"name":{"type":"string"}}}}""", "s.items.properties[name].default: Required value: this property is in x-kubernetes-list-map-keys, so it must have a default or be a required property")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],"items":{"type":"object","required":["name"],"properties":{"name":{"type":"string","nullable":true}}}}""", "s.items.properties[name].nullable: Forbidden: this property is in x-kubernetes-list-map-keys, so it cannot be nullable")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string","nullable":true}}""", "s.items.nullable: Forbidden: cannot be nullable when x-kubernetes-list-type is set")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"set","items":{"type":"object","properties":{"a":{"type":"string"}}}}""", "s.items.x-kubernetes-map-type: Invalid value: \"null\": must be atomic as item of a list with x-kubernetes-list-type=set")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"set","items":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}}}""", "s.items.x-kubernetes-list-type: Invalid value: \"set\": must be atomic as item of a list with x-kubernetes-list-type=set")]
    [InlineData("""{"type":"array","x-kubernetes-list-map-keys":["name"],"items":{"type":"object","properties":{"name":{"type":"string"}}}}""", "s.x-kubernetes-list-type: Required value: must be map if x-kubernetes-list-map-keys is non-empty")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"set","x-kubernetes-list-map-keys":["name"],"items":{"type":"string"}}""", "s.x-kubernetes-list-type: Invalid value: \"set\": must be map if x-kubernetes-list-map-keys is non-empty")]
    [InlineData("""{"type":"string","x-kubernetes-map-type":"atomic"}""", "s.type: Invalid value: \"string\": must be object if x-kubernetes-map-type is specified")]
    [InlineData("""{"type":"object","x-kubernetes-map-type":"loose"}""", "s.x-kubernetes-map-type: Unsupported value: \"loose\": supported values: \"atomic\", \"granular\"")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"object","properties":{"l":{"type":"array","x-kubernetes-list-type":"bag","items":{"type":"string"}}}}}}""", "s.properties[a].properties[l].x-kubernetes-list-type: Unsupported value: \"bag\"")]
    public void CheckSchema_BrokenListAndMapTypes_AreKubesErrors(string schema, string expected)
    {
        var errors = Check(schema);
        Assert.Contains(errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name","port"],"items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"port":{"type":"integer","default":80}}}}""")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"set","items":{"type":"object","x-kubernetes-map-type":"atomic","properties":{"a":{"type":"string"}}}}""")]
    [InlineData("""{"type":"array","x-kubernetes-list-type":"atomic","items":{"type":"object","properties":{"a":{"type":"string"}}}}""")]
    [InlineData("""{"type":"object","x-kubernetes-map-type":"granular","additionalProperties":{"type":"string"}}""")]
    public void CheckSchema_WellFormedListTypes_HaveNoErrors(string schema) => Assert.Empty(Check(schema));

    [Fact]
    public void CheckSchema_RatchetedRules_AreNotEnforcedWhenTheStoredDefinitionBrokeThem()
    {
        const string Schema = """{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],"items":{"type":"object","properties":{"name":{"type":"string"}}}}""";
        Assert.NotEmpty(Check(Schema));
        Assert.Empty(Check(Schema, ratchet: true));
        Assert.Equal((false, true), ListTypes.Ratcheted(JsonNode.Parse(Schema)!.AsObject()));
    }

    private const string ObjectSchema = """
        {"type":"object","properties":{"spec":{"type":"object","properties":{
          "tags":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},
          "ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name","port"],
            "items":{"type":"object","required":["name","port"],"properties":{"name":{"type":"string"},"port":{"type":"integer"},"x":{"type":"string"}}}},
          "routes":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
            "items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"hops":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"integer"}}}}},
          "byName":{"type":"object","additionalProperties":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}}},
          "plain":{"type":"array","items":{"type":"string"}}}}}}
        """;

    private static List<string> Unique(string spec)
    {
        var errors = new List<FieldError>();
        ListTypes.ValidateUniqueness(JsonNode.Parse(ObjectSchema)!.AsObject(), new JsonObject { ["spec"] = JsonNode.Parse(spec) }, errors);
        return [.. errors.Select(e => e.ToString())];
    }

    [Theory]
    [InlineData("""{"tags":["a","b","a","a","b"]}""", new[] { "spec.tags[2]: Duplicate value: \"a\"", "spec.tags[4]: Duplicate value: \"b\"" })]
    [InlineData("""{"ports":[{"name":"web","port":80},{"name":"web","port":443},{"port":80,"name":"web","x":"y"}]}""", new[] { "spec.ports[2]: Duplicate value: map[string]interface {}{\"name\":\"web\", \"port\":80}" })]
    [InlineData("""{"routes":[{"name":"a","hops":[1,2,1]},{"name":"a"}]}""", new[] { "spec.routes[1]: Duplicate value: map[string]interface {}{\"name\":\"a\"}", "spec.routes[0].hops[2]: Duplicate value: 1" })]
    [InlineData("""{"routes":[{"hops":[1]},{"hops":[2]}]}""", new[] { "spec.routes[1]: Duplicate value: map[string]interface {}{}" })]
    [InlineData("""{"byName":{"k":["x","x"]}}""", new[] { "spec.byName[k][1]: Duplicate value: \"x\"" })]
    [InlineData("""{"routes":["a"]}""", new[] { "spec.routes[0]: Invalid value: \"a\": must be an object for an array of list-type map" })]
    public void ValidateUniqueness_RepeatedSetValuesAndMapKeys_AreDuplicates(string spec, string[] expected) =>
        Assert.Equal(expected.Order(StringComparer.Ordinal), Unique(spec).Order(StringComparer.Ordinal));

    [Theory]
    [InlineData("""{"tags":["a","b"],"plain":["x","x"],"ports":[{"name":"web","port":80},{"name":"web","port":443}]}""")]
    [InlineData("""{"routes":[{"name":"a","hops":[1,2]},{"name":"b","hops":[1,2]}]}""")]
    public void ValidateUniqueness_DistinctItemsAndAtomicLists_Pass(string spec) => Assert.Empty(Unique(spec));
}
