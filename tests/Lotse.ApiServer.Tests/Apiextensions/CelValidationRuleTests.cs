using System.Text.Json.Nodes;
using Lotse.ApiServer.Apiextensions.Cel;
using Lotse.ApiServer.Errors;

namespace Lotse.ApiServer.Tests.Apiextensions;

/// <summary>x-kubernetes-validations: compiled against the schema, run on objects, worded like kube.</summary>
public sealed class CelValidationRuleTests
{
    private const string Spec = """
        "replicas":{"type":"integer"},"max":{"type":"integer"},"name":{"type":"string"},
        "mode":{"type":"string"},"port":{"x-kubernetes-int-or-string":true},
        "tags":{"type":"array","maxItems":10,"items":{"type":"string","maxLength":20}},
        "labels":{"type":"object","additionalProperties":{"type":"string"}},
        "ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
          "items":{"type":"object","properties":{"name":{"type":"string"},"number":{"type":"integer"}}}},
        "extra":{"type":"object","x-kubernetes-preserve-unknown-fields":true}
        """;

    private static JsonObject Schema(string specRules, string rootRules = "[]", string extraProperties = "") => JsonNode.Parse($$"""
        {"type":"object","x-kubernetes-validations":{{rootRules}},"properties":{
          "spec":{"type":"object","x-kubernetes-validations":{{specRules}},"properties":{ {{Spec}} } }{{extraProperties}} } }
        """)!.AsObject();

    private static List<string> Run(JsonObject schema, string obj, string? old = null)
    {
        var errors = new List<FieldError>();
        CelRules.Validate(CelValidator.For(schema), JsonNode.Parse(obj)!.AsObject(), old is null ? null : JsonNode.Parse(old)!.AsObject(), errors);
        return [.. errors.Select(e => e.ToString())];
    }

    private static List<string> Check(JsonObject schema)
    {
        var errors = new List<FieldError>();
        var version = new JsonObject { ["name"] = "v1", ["schema"] = new JsonObject { ["openAPIV3Schema"] = schema.DeepClone() } };
        CelRules.CheckDefinition([version], errors);
        return [.. errors.Select(e => e.ToString())];
    }

    private static string Rule(string rule, string extra = "") => $$"""[{"rule":{{FieldError.Quote(rule)}}{{extra}} }]""";

    [Fact]
    public void Compile_SyntaxError_IsInvalidOnTheRule_WithCelGosReport()
    {
        var errors = Check(Schema(Rule("self.replicas <")));
        var error = Assert.Single(errors);
        Assert.StartsWith("spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:\"self.replicas <\", Message:\"\", MessageExpression:\"\", Reason:(*apiextensions.FieldValueErrorReason)(nil), FieldPath:\"\", OptionalOldSelf:(*bool)(nil)}: compilation failed: ERROR: <input>:1:16: Syntax error: mismatched input '<EOF>' expecting ", error);
        Assert.EndsWith("\n | self.replicas <\n | ...............^", error);
    }

    [Theory]
    [InlineData("self.replicaz > 0", "ERROR: <input>:1:5: undefined field 'replicaz'")]
    [InlineData("selfie.replicas > 0", "ERROR: <input>:1:1: undeclared reference to 'selfie' (in container '')")]
    [InlineData("self.name.shout()", "ERROR: <input>:1:16: undeclared reference to 'shout' (in container '')")]
    [InlineData("self.replicas + 'a' == 1", "ERROR: <input>:1:15: found no matching overload for '_+_' applied to '(int, string)'")]
    [InlineData("self.replicas.startsWith('a')", "ERROR: <input>:1:25: found no matching overload for 'startsWith' applied to 'int.(string)'")]
    [InlineData("self.name.all(c, c == 'a')", "ERROR: <input>:1:14: expression of type 'string' cannot be range of a comprehension (must be list, map, or dynamic)")]
    [InlineData("self.replicas == 'three'", "ERROR: <input>:1:15: found no matching overload for '_==_' applied to '(int, string)'")]
    public void Compile_TypeErrors_AreReportedLikeCelGo(string rule, string issue)
    {
        var error = Assert.Single(Check(Schema(Rule(rule))));
        Assert.Contains($": compilation failed: {issue}\n | {rule}\n", error);
    }

    [Fact]
    public void Compile_NonBoolRule_OtherMistakes_AndGoodRules()
    {
        var errors = Check(Schema($$"""
            [{"rule":"self.replicas + 1"},
             {"rule":"self.replicas <= self.max","reason":"FieldValueWrong"},
             {"rule":"self.replicas > 0","fieldPath":".nope"},
             {"rule":"self.replicas > 0","optionalOldSelf":true},
             {"rule":"self.replicas > 0","messageExpression":"self.replicas"},
             {"rule":"  "},
             {"rule":"has(self.name) && self.tags.all(t, t.startsWith('x')) && self.labels.exists(k, self.labels[k] == 'a') && self.port != 0 && self.extra.anything == 1 && self.mode in ['a', 'b']","fieldPath":".labels['a']"}]
            """));
        const string P = "spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations";
        Assert.Equal(6, errors.Count);
        Assert.Contains($"{P}[0].rule: Invalid value: apiextensions.ValidationRule{{Rule:\"self.replicas + 1\"", errors[0]);
        Assert.EndsWith(": cel expression must evaluate to a bool", errors[0]);
        Assert.Equal($"{P}[1].reason: Unsupported value: \"FieldValueWrong\": supported values: \"FieldValueDuplicate\", \"FieldValueForbidden\", \"FieldValueInvalid\", \"FieldValueRequired\"", errors[1]);
        Assert.Equal($"{P}[2].fieldPath: Invalid value: \".nope\": fieldPath must be a valid path: does not refer to a valid field", errors[2]);
        Assert.Equal($"{P}[3].optionalOldSelf: Forbidden: may not be set if rule does not use oldSelf", errors[3]);
        Assert.EndsWith(": messageExpression must evaluate to a string", errors[4]);
        Assert.StartsWith($"{P}[4].messageExpression: Invalid value: apiextensions.ValidationRule{{", errors[4]);
        Assert.Equal($"{P}[5].rule: Required value: rule is not specified", errors[5]);
    }

    [Fact]
    public void Compile_DifferentSchemasPerVersion_ReportUnderTheVersion()
    {
        var good = Schema(Rule("self.replicas > 0"));
        var bad = Schema(Rule("self.nope > 0"));
        var errors = new List<FieldError>();
        CelRules.CheckDefinition(
            [new JsonObject { ["schema"] = new JsonObject { ["openAPIV3Schema"] = good } }, new JsonObject { ["schema"] = new JsonObject { ["openAPIV3Schema"] = bad } }],
            errors);
        Assert.StartsWith("spec.versions[1].schema.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: ", Assert.Single(errors).ToString());
    }

    [Fact]
    public void Compile_NestedLoopsOverUnboundedLists_AreRefusedForCost_BoundedOnesPass()
    {
        var unbounded = Schema("[]", extraProperties: """
            ,"items":{"type":"array","items":{"type":"string"},
              "x-kubernetes-validations":[{"rule":"self.all(a, self.all(b, self.all(c, a + b + c != 'x')))"}]}
            """);
        var error = Assert.Single(Check(unbounded));
        Assert.Equal("spec.validation.openAPIV3Schema.properties[items].x-kubernetes-validations[0].rule: Forbidden: estimated rule cost exceeds budget by more than 100x (try simplifying the rule, or adding maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)", error);

        var bounded = Schema("[]", extraProperties: """
            ,"items":{"type":"array","maxItems":20,"items":{"type":"string"},
              "x-kubernetes-validations":[{"rule":"self.all(a, self.all(b, self.all(c, a + b + c != 'x')))"}]}
            """);
        Assert.Empty(Check(bounded));
    }

    [Fact]
    public void Compile_TransitionRuleOnPlainListItems_IsRefused_OnMapListItems_Allowed()
    {
        var schema = Schema("[]", extraProperties: """
            ,"plain":{"type":"array","items":{"type":"string","x-kubernetes-validations":[{"rule":"self == oldSelf"}]}}
            """);
        Assert.Contains("oldSelf cannot be used on the uncorrelatable portion of the schema within spec.validation.openAPIV3Schema.properties[plain]", Assert.Single(Check(schema)));

        var keyed = JsonNode.Parse("""
            {"type":"object","properties":{"ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
              "items":{"type":"object","properties":{"name":{"type":"string"},"number":{"type":"integer"}},
                "x-kubernetes-validations":[{"rule":"self.number == oldSelf.number","message":"number is immutable"}]}}}}
            """)!.AsObject();
        Assert.Empty(Check(keyed));
        Assert.Empty(Run(keyed, """{"ports":[{"name":"a","number":1}]}"""));
        // Items are matched with their old selves by key, wherever they moved; new keys have none.
        Assert.Equal(
            ["ports[1]: Invalid value: \"object\": number is immutable"],
            Run(keyed, """{"ports":[{"name":"b","number":5},{"name":"a","number":2}]}""", """{"ports":[{"name":"a","number":1}]}"""));
    }

    [Fact]
    public void Evaluate_PassingAndFailingRules_WithKubesWording()
    {
        var schema = Schema("""
            [{"rule":"self.replicas <= self.max"},
             {"rule":"self.name.startsWith('web-')","message":"name must start with web-"},
             {"rule":"self.mode in ['fast', 'slow']","reason":"FieldValueForbidden","message":"mode is fast or slow"},
             {"rule":"size(self.tags) >= 1","reason":"FieldValueRequired","message":"at least one tag","fieldPath":".tags"},
             {"rule":"self.tags.all(t, t.endsWith('x'))","reason":"FieldValueDuplicate"}]
            """, rootRules: """[{"rule":"self.metadata.name.startsWith('my-')"}]""");
        var errors = Run(schema, """{"apiVersion":"x/v1","kind":"K","metadata":{"name":"other"},"spec":{"replicas":5,"max":3,"name":"db","mode":"medium","tags":[]}}""");
        Assert.Equal(
            [
                "<nil>: Invalid value: \"object\": failed rule: self.metadata.name.startsWith('my-')",
                "spec: Invalid value: \"object\": failed rule: self.replicas <= self.max",
                "spec: Invalid value: \"object\": name must start with web-",
                "spec: Forbidden: mode is fast or slow",
                "spec.tags: Required value: at least one tag",
            ],
            errors);

        Assert.Empty(Run(schema, """{"metadata":{"name":"my-app"},"spec":{"replicas":2,"max":3,"name":"web-1","mode":"fast","tags":["ax"]}}"""));
        Assert.Equal(["spec: Duplicate value: \"object\""], Run(schema, """{"metadata":{"name":"my-app"},"spec":{"replicas":2,"max":3,"name":"web-1","mode":"fast","tags":["ay"]}}"""));
    }

    [Fact]
    public void Evaluate_MessageExpression_IsUsed_AndFallsBackWhenItCannotBe()
    {
        var schema = Schema("""
            [{"rule":"self.replicas <= self.max","messageExpression":"'replicas ' + string(self.replicas) + ' exceed max ' + string(self.max)"},
             {"rule":"self.replicas < 4","message":"fallback","messageExpression":"self.name + ' is wrong'"},
             {"rule":"self.replicas < 3","messageExpression":"'  '"}]
            """);
        Assert.Equal(
            [
                "spec: Invalid value: \"object\": replicas 5 exceed max 3",
                "spec: Invalid value: \"object\": fallback",
                "spec: Invalid value: \"object\": failed rule: self.replicas < 3",
            ],
            Run(schema, """{"spec":{"replicas":5,"max":3}}"""));
    }

    [Fact]
    public void Evaluate_TransitionRules_RunOnlyOnUpdateWithAnOldValue_UnlessOptional()
    {
        var schema = Schema("""
            [{"rule":"self.name == oldSelf.name","message":"name is immutable"},
             {"rule":"!oldSelf.hasValue() || self.replicas >= oldSelf.value().replicas","optionalOldSelf":true,"message":"replicas may only grow"},
             {"rule":"oldSelf.hasValue() || self.replicas == 1","optionalOldSelf":true,"message":"start with one"}]
            """);
        Assert.Empty(Run(schema, """{"spec":{"name":"a","replicas":1}}"""));
        Assert.Equal(["spec: Invalid value: \"object\": start with one"], Run(schema, """{"spec":{"name":"a","replicas":2}}"""));
        Assert.Empty(Run(schema, """{"spec":{"name":"a","replicas":3}}""", """{"spec":{"name":"a","replicas":2}}"""));
        Assert.Equal(
            ["spec: Invalid value: \"object\": name is immutable", "spec: Invalid value: \"object\": replicas may only grow"],
            Run(schema, """{"spec":{"name":"b","replicas":1}}""", """{"spec":{"name":"a","replicas":2}}"""));

        // A field that was absent before has no old value: its transition rules do not run.
        var nested = JsonNode.Parse("""
            {"type":"object","properties":{"spec":{"type":"object","properties":{
              "name":{"type":"string","x-kubernetes-validations":[{"rule":"self == oldSelf","message":"immutable"}]}}}}}
            """)!.AsObject();
        Assert.Empty(Run(nested, """{"spec":{"name":"b"}}""", """{"spec":{}}"""));
        Assert.Equal(["spec.name: Invalid value: \"string\": immutable"], Run(nested, """{"spec":{"name":"b"}}""", """{"spec":{"name":"a"}}"""));
    }

    [Fact]
    public void Evaluate_NestedListsAndMaps_AndRulesOnItemsAndValues()
    {
        var schema = JsonNode.Parse("""
            {"type":"object","properties":{"spec":{"type":"object","properties":{
              "groups":{"type":"array","maxItems":10,"items":{"type":"object","properties":{
                 "members":{"type":"array","maxItems":10,"items":{"type":"string"}},
                 "limits":{"type":"object","maxProperties":10,"additionalProperties":{"type":"integer"}}},
                 "x-kubernetes-validations":[{"rule":"self.members.all(m, m in self.limits)","message":"every member needs a limit"}]}},
              "weights":{"type":"object","additionalProperties":{"type":"integer","x-kubernetes-validations":[{"rule":"self >= 0 && self <= 100"}]}}},
              "x-kubernetes-validations":[
                {"rule":"self.groups.map(g, size(g.members)).exists(n, n > 1)","message":"one group needs two members"},
                {"rule":"self.groups.filter(g, g.limits.exists(k, g.limits[k] > 10)).size() <= 1","message":"one big group at most"}]}}}
            """)!.AsObject();
        Assert.True(Check(schema).Count == 0, string.Join("\n\n", Check(schema)));
        Assert.Empty(Run(schema, """{"spec":{"groups":[{"members":["a","b"],"limits":{"a":1,"b":20}}],"weights":{"x":5}}}"""));
        Assert.Equal(
            [
                "spec: Invalid value: \"object\": one group needs two members",
                "spec: Invalid value: \"object\": one big group at most",
                "spec.groups[1]: Invalid value: \"object\": every member needs a limit",
                "spec.weights[y]: Invalid value: \"integer\": failed rule: self >= 0 && self <= 100",
            ],
            Run(schema, """{"spec":{"groups":[{"members":["a"],"limits":{"a":11}},{"members":["c"],"limits":{"x":12}}],"weights":{"x":5,"y":101}}}"""));
    }

    [Fact]
    public void Evaluate_RuntimeErrors_AreInvalidValues_NeverExceptions()
    {
        var schema = Schema("""
            [{"rule":"self.name == 'a'"},
             {"rule":"self.labels['missing'] == 'x'","message":"label must be x"},
             {"rule":"self.tags[3] == 'x'"},
             {"rule":"self.replicas / self.max > 0"},
             {"rule":"self.port > 80"}]
            """);
        Assert.Equal(
            [
                "spec: Invalid value: \"object\": no such key: name evaluating rule: self.name == 'a'",
                "spec: Invalid value: \"object\": no such key evaluating rule: label must be x",
                "spec: Invalid value: \"object\": index out of bounds evaluating rule: self.tags[3] == 'x'",
                "spec: Invalid value: \"object\": division by zero evaluating rule: self.replicas / self.max > 0",
                "spec: Invalid value: \"object\": 'no such overload': call arguments did not match a supported operator, function or macro signature for rule: self.port > 80",
            ],
            Run(schema, """{"spec":{"labels":{},"tags":[],"replicas":1,"max":0,"port":"http"}}"""));
        Assert.Empty(Run(schema, """{"spec":{"name":"a","labels":{"missing":"x"},"tags":["a","b","c","x"],"replicas":1,"max":1,"port":443}}"""));
    }

    [Fact]
    public void Evaluate_SchemaErrorsThatBlock_SkipTheRules_WithKubesNote()
    {
        var errors = new List<FieldError> { FieldError.Required(FieldPath.Root("spec").Child("name")) };
        CelRules.Validate(CelValidator.For(Schema(Rule("self.replicas > 0"))), JsonNode.Parse("""{"spec":{"replicas":0}}""")!.AsObject(), null, errors);
        Assert.Equal(
            ["spec.name: Required value", "<nil>: Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation"],
            errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Evaluate_ExtendedStringsListsAndRegex()
    {
        var schema = Schema("""
            [{"rule":"self.name.lowerAscii() == 'web-1' && self.name.indexOf('-') == 3 && self.name.split('-')[1] == '1' && self.name.substring(0, 3).upperAscii() == 'WEB'"},
             {"rule":"self.tags.isSorted() && self.tags.join(',') == 'a,b' && [3, 1, 2].max() == 3 && [1, 2].sum() == 3"},
             {"rule":"self.name.matches('^[a-zA-Z]+-[0-9]+$') && self.name.find('[0-9]+') == '1' && self.name.replace('-', '_') == 'Web_1'"}]
            """);
        Assert.Empty(Run(schema, """{"spec":{"name":"Web-1","tags":["a","b"]}}"""));
        Assert.Equal(3, Run(schema, """{"spec":{"name":"xx","tags":["b","a"]}}""").Count);
    }

    [Fact]
    public void Evaluate_PathologicalRule_StopsAtTheCostLimit()
    {
        // 2,000 items, a triple loop: 8e9 steps if nothing stopped it.
        var schema = Schema("[]", extraProperties: """
            ,"items":{"type":"array","items":{"type":"integer"},"x-kubernetes-validations":[{"rule":"self.all(a, self.all(b, self.all(c, a + b + c >= 0)))"}]}
            """);
        var items = string.Join(',', Enumerable.Range(0, 2000));
        Assert.Equal(
            ["items: Invalid value: \"array\": 'operation cancelled: actual cost limit exceeded': no further validation rules will be run due to call cost exceeds limit for rule: self.all(a, self.all(b, self.all(c, a + b + c >= 0)))"],
            Run(schema, $$"""{"items":[{{items}}]}"""));
    }

    [Fact]
    public void Escaping_PropertyNamesThatAreNotIdentifiers()
    {
        var schema = JsonNode.Parse("""
            {"type":"object","properties":{"spec":{"type":"object","properties":{
              "max-size":{"type":"integer"},"namespace":{"type":"string"}},
              "x-kubernetes-validations":[{"rule":"self.max__dash__size > 1 && self.__namespace__ == 'x'"}]}}}
            """)!.AsObject();
        Assert.Empty(Check(schema));
        Assert.Empty(Run(schema, """{"spec":{"max-size":2,"namespace":"x"}}"""));
        Assert.Single(Run(schema, """{"spec":{"max-size":1,"namespace":"x"}}"""));
    }
}
