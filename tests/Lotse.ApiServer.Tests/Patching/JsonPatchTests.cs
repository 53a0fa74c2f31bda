using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Lotse.ApiServer.Patching;
using static Lotse.ApiServer.Tests.Patching.JsonAssert;

namespace Lotse.ApiServer.Tests.Patching;

public sealed class JsonPatchTests
{
    private static JsonNode Apply(string target, string patch) => JsonPatch.Apply(Node(target)!, Node(patch)!);

    private static PatchException Fails(string target, string patch) =>
        Assert.Throws<PatchException>(() => JsonPatch.Apply(Node(target)!, Node(patch)!));

    // RFC 6902 appendix A: the examples that succeed (A.1–A.8, A.10, A.11, A.14, A.16).
    [Theory]
    [InlineData("""{"foo":"bar"}""", """[{"op":"add","path":"/baz","value":"qux"}]""", """{"baz":"qux","foo":"bar"}""")]
    [InlineData("""{"foo":["bar","baz"]}""", """[{"op":"add","path":"/foo/1","value":"qux"}]""", """{"foo":["bar","qux","baz"]}""")]
    [InlineData("""{"baz":"qux","foo":"bar"}""", """[{"op":"remove","path":"/baz"}]""", """{"foo":"bar"}""")]
    [InlineData("""{"foo":["bar","qux","baz"]}""", """[{"op":"remove","path":"/foo/1"}]""", """{"foo":["bar","baz"]}""")]
    [InlineData("""{"baz":"qux","foo":"bar"}""", """[{"op":"replace","path":"/baz","value":"boo"}]""", """{"baz":"boo","foo":"bar"}""")]
    [InlineData("""{"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}""", """[{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]""",
        """{"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}""")]
    [InlineData("""{"foo":["all","grass","cows","eat"]}""", """[{"op":"move","from":"/foo/1","path":"/foo/3"}]""", """{"foo":["all","cows","eat","grass"]}""")]
    [InlineData("""{"baz":"qux","foo":["a",2,"c"]}""", """[{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]""",
        """{"baz":"qux","foo":["a",2,"c"]}""")]
    [InlineData("""{"foo":"bar"}""", """[{"op":"add","path":"/child","value":{"grandchild":{}}}]""", """{"foo":"bar","child":{"grandchild":{}}}""")]
    [InlineData("""{"foo":"bar"}""", """[{"op":"add","path":"/baz","value":"qux","xyz":123}]""", """{"foo":"bar","baz":"qux"}""")]
    [InlineData("""{"/":9,"~1":10}""", """[{"op":"test","path":"/~01","value":10}]""", """{"/":9,"~1":10}""")]
    [InlineData("""{"foo":["bar"]}""", """[{"op":"add","path":"/foo/-","value":["abc","def"]}]""", """{"foo":["bar",["abc","def"]]}""")]
    public void Apply_Rfc6902AppendixExamples_GiveTheRfcResults(string target, string patch, string expected) =>
        Equal(expected, Apply(target, patch));

    [Fact]
    public void Apply_Rfc6902A9FailedTest_IsUnprocessableWithKubernetesWording()
    {
        var ex = Fails("""{"baz":"qux"}""", """[{"op":"test","path":"/baz","value":"bar"}]""");
        Assert.Equal("testing value /baz failed: test failed", ex.Message);
        Assert.Equal(PatchErrorKind.Unprocessable, ex.Kind);
        Assert.Equal(422, ex.StatusCode);
        Assert.False(ex.Malformed);
    }

    [Fact]
    public void Apply_Rfc6902A12AddToNonexistentTarget_Fails() =>
        Assert.Equal("add operation does not apply: doc is missing path: \"/baz/bat\": missing value",
            Fails("""{"foo":"bar"}""", """[{"op":"add","path":"/baz/bat","value":"qux"}]""").Message);

    [Fact]
    public void Apply_Rfc6902A15StringIsNotNumber_TestFails() =>
        Assert.Equal(PatchErrorKind.Unprocessable, Fails("""{"/":9,"~1":10}""", """[{"op":"test","path":"/~01","value":"10"}]""").Kind);

    [Fact]
    public void Apply_TestOfKubernetesLabel_FailsWithTheKubectlMessage() =>
        Assert.Equal("testing value /metadata/labels/app failed: test failed",
            Fails("""{"metadata":{"labels":{"app":"web"}}}""", """[{"op":"test","path":"/metadata/labels/app","value":"db"}]""").Message);

    [Fact]
    public void Apply_TestComparesNumbersByValueAndObjectsIgnoringMemberOrder() =>
        Apply("""{"n":1,"o":{"a":1,"b":[1,2]}}""", """[{"op":"test","path":"/n","value":1.0},{"op":"test","path":"/o","value":{"b":[1,2],"a":1}}]""");

    [Fact]
    public void Apply_ReplaceOfMissingPath_FailsWithTheEvanphxMessage()
    {
        var ex = Fails("""{"spec":{"replicas":1}}""", """[{"op":"replace","path":"/spec/foo","value":1}]""");
        Assert.Equal("replace operation does not apply: doc is missing path: /spec/foo: missing value", ex.Message);
        Assert.Equal(422, ex.StatusCode);
        Assert.Equal("replace operation does not apply: doc is missing path: /nope/foo: missing value",
            Fails("{}", """[{"op":"replace","path":"/nope/foo","value":1}]""").Message);
    }

    [Fact]
    public void Apply_RemoveOfMissingMemberOrIndex_FailsAsUnprocessable()
    {
        Assert.Equal("error in remove for path: '/metadata/labels/nope': Unable to remove nonexistent key: nope: missing value",
            Fails("""{"metadata":{"labels":{}}}""", """[{"op":"remove","path":"/metadata/labels/nope"}]""").Message);
        Assert.Equal("remove operation does not apply: doc is missing path: \"/a/b\": missing value",
            Fails("{}", """[{"op":"remove","path":"/a/b"}]""").Message);
        Assert.Equal("error in remove for path: '/l/2': Unable to access invalid index: 2: invalid index referenced",
            Fails("""{"l":[1,2]}""", """[{"op":"remove","path":"/l/2"}]""").Message);
    }

    [Theory]
    [InlineData("""[{"op":"add","path":"/l/-","value":9}]""", """{"l":[1,2,9]}""")]
    [InlineData("""[{"op":"add","path":"/l/2","value":9}]""", """{"l":[1,2,9]}""")]
    [InlineData("""[{"op":"add","path":"/l/0","value":9}]""", """{"l":[9,1,2]}""")]
    [InlineData("""[{"op":"replace","path":"/l/1","value":9}]""", """{"l":[1,9]}""")]
    [InlineData("""[{"op":"copy","from":"/l/0","path":"/l/-"}]""", """{"l":[1,2,1]}""")]
    [InlineData("""[{"op":"move","from":"/l/0","path":"/l/-"}]""", """{"l":[2,1]}""")]
    public void Apply_ArrayIndexRules_FollowRfc6901(string patch, string expected) =>
        Equal(expected, Apply("""{"l":[1,2]}""", patch));

    [Theory]
    [InlineData("""[{"op":"add","path":"/l/3","value":9}]""")]
    [InlineData("""[{"op":"add","path":"/l/01","value":9}]""")]
    [InlineData("""[{"op":"add","path":"/l/x","value":9}]""")]
    [InlineData("""[{"op":"replace","path":"/l/-","value":9}]""")]
    [InlineData("""[{"op":"remove","path":"/l/-1"}]""")]
    [InlineData("""[{"op":"replace","path":"/l/2","value":9}]""")]
    [InlineData("""[{"op":"test","path":"/l/5","value":9}]""")]
    public void Apply_IndexOutsideTheArrayOrNotADecimal_IsUnprocessable(string patch) =>
        Assert.Equal(PatchErrorKind.Unprocessable, Fails("""{"l":[1,2]}""", patch).Kind);

    [Fact]
    public void Apply_WholeDocumentPath_ReplacesOrTestsTheDocument()
    {
        Equal("""{"b":2}""", Apply("""{"a":1}""", """[{"op":"replace","path":"","value":{"b":2}}]"""));
        Equal("""{"c":3}""", Apply("""{"a":1}""", """[{"op":"add","path":"","value":{"c":3}}]"""));
        Equal("""{"a":1}""", Apply("""{"a":1}""", """[{"op":"test","path":"","value":{"a":1}}]"""));
        Assert.Equal(PatchErrorKind.Unprocessable, Fails("""{"a":1}""", """[{"op":"remove","path":""}]""").Kind);
    }

    [Fact]
    public void Apply_EscapedPointerTokens_AddressSlashAndTildeMembers() =>
        Equal("""{"metadata":{"annotations":{"example.com/a~b":"1","kubernetes.io/x":"y"}}}""",
            Apply("""{"metadata":{"annotations":{"kubernetes.io/x":"y"}}}""", """[{"op":"add","path":"/metadata/annotations/example.com~1a~0b","value":"1"}]"""));

    [Fact]
    public void Apply_MoveIntoItsOwnChild_FailsAndMoveOntoItself_IsANoOp()
    {
        Assert.Equal(PatchErrorKind.Unprocessable, Fails("""{"a":{"b":1}}""", """[{"op":"move","from":"/a","path":"/a/c"}]""").Kind);
        Equal("""{"a":{"b":1}}""", Apply("""{"a":{"b":1}}""", """[{"op":"move","from":"/a","path":"/a"}]"""));
    }

    [Fact]
    public void Apply_MoveOrCopyFromMissingPath_Fails()
    {
        Assert.Equal("move operation does not apply: doc is missing from path: /x: missing value",
            Fails("{}", """[{"op":"move","from":"/x","path":"/y"}]""").Message);
        Assert.Equal("copy operation does not apply: doc is missing from path: /x: missing value",
            Fails("{}", """[{"op":"copy","from":"/x","path":"/y"}]""").Message);
    }

    [Fact]
    public void Apply_Copy_DuplicatesTheValueNotTheNode()
    {
        var result = Apply("""{"a":{"b":[1]}}""", """[{"op":"copy","from":"/a","path":"/c"}]""");
        result["c"]!["b"]!.AsArray().Add(2);
        Equal("""{"a":{"b":[1]},"c":{"b":[1,2]}}""", result);
    }

    [Fact]
    public void Apply_AnyFailure_RejectsTheWholePatchAndLeavesInputsUntouched()
    {
        var target = Object("""{"a":1,"l":[1]}""");
        var patch = Node("""[{"op":"add","path":"/b","value":{"x":1}},{"op":"remove","path":"/l/0"},{"op":"test","path":"/a","value":2}]""")!;
        var (targetText, patchText) = (target.ToJsonString(), patch.ToJsonString());
        Assert.Throws<PatchException>(() => JsonPatch.Apply(target, patch));

        var ok = JsonPatch.Apply(target, Node("""[{"op":"add","path":"/b","value":{"x":1}},{"op":"add","path":"/l/-","value":2}]""")!);
        ok["b"]!["x"] = 5;
        Assert.Equal(targetText, target.ToJsonString());
        Assert.Equal(patchText, patch.ToJsonString());
    }

    [Fact]
    public void Apply_KubectlRolloutUndoPatch_ReplacesTemplateAndAnnotations()
    {
        var deployment = Object("""{"metadata":{"name":"web","annotations":{"deployment.kubernetes.io/revision":"2"}},"spec":{"replicas":3,"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}""");
        var patch = Node("""[{"op":"replace","path":"/spec/template","value":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}},{"op":"replace","path":"/metadata/annotations","value":{"deployment.kubernetes.io/revision":"2"}}]""")!;
        var result = JsonPatch.Apply(deployment, patch);
        Assert.Equal("nginx:1.27", result["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());
        Assert.Equal(3, result["spec"]!["replicas"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("""{"op":"add","path":"/a","value":1}""", "json: cannot unmarshal object into Go value of type jsonpatch.Patch")]
    [InlineData("""["add"]""", "json: cannot unmarshal string into Go value of type jsonpatch.Operation")]
    [InlineData("""[{"op":"frob","path":"/a"}]""", "Unexpected kind: frob")]
    [InlineData("""[{"path":"/a","value":1}]""", "Unexpected kind: unknown")]
    [InlineData("""[{"op":"add","value":1}]""", "add operation failed to decode path: operation missing path field: missing value")]
    [InlineData("""[{"op":"replace","path":"/a"}]""", "replace operation, missing value field: missing value")]
    [InlineData("""[{"op":"move","path":"/a"}]""", "move operation failed to decode from: operation, missing from field: missing value")]
    [InlineData("""[{"op":"add","path":"a","value":1}]""", "add operation failed to decode path: invalid JSON pointer \"a\"")]
    [InlineData("""[{"op":"remove","path":"/a~2"}]""", "remove operation failed to decode path: invalid JSON pointer \"/a~2\"")]
    [InlineData("""[{"op":"test","path":"/a","value":2},{"op":"nope","path":"/a"}]""", "Unexpected kind: nope")]
    public void Apply_MalformedPatchDocument_IsABadRequest(string patch, string message)
    {
        var ex = Fails("""{"a":1}""", patch);
        Assert.Equal(message, ex.Message);
        Assert.True(ex.Malformed);
        Assert.Equal(400, ex.StatusCode);
    }

    [Fact]
    public void Apply_NullValue_IsAValueNotAMissingOne() =>
        Equal("""{"a":null,"b":null}""", Apply("""{"a":1}""", """[{"op":"replace","path":"/a","value":null},{"op":"add","path":"/b","value":null},{"op":"test","path":"/b","value":null}]"""));

    /// <summary>For any document, a test of every member passes, and adding then removing a member gives the document back.</summary>
    [Fact]
    public void Apply_TestEveryMemberThenAddAndRemove_RoundTrips()
    {
        Prop.ForAll(JsonGen.Object(3, nullMembers: true).ToArbitrary(), document =>
            {
                var operations = new JsonArray();
                foreach (var (pointer, value) in Members(document, ""))
                {
                    operations.Add(new JsonObject { ["op"] = "test", ["path"] = pointer, ["value"] = value?.DeepClone() });
                }

                operations.Add(new JsonObject { ["op"] = "add", ["path"] = "/new~1member", ["value"] = new JsonObject { ["x"] = 1 } });
                operations.Add(new JsonObject { ["op"] = "remove", ["path"] = "/new~1member" });
                return JsonNode.DeepEquals(JsonPatch.Apply(document, operations), document);
            })
            .Check(Config.QuickThrowOnFailure.WithMaxTest(200));
    }

    private static IEnumerable<(string Pointer, JsonNode? Value)> Members(JsonNode? node, string prefix)
    {
        var children = node switch
        {
            JsonObject o => o.Select(m => (Token: m.Key, m.Value)),
            JsonArray a => a.Select((item, i) => (Token: i.ToString(System.Globalization.CultureInfo.InvariantCulture), Value: item)),
            _ => [],
        };
        foreach (var (token, value) in children)
        {
            var pointer = prefix + "/" + token.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);
            yield return (pointer, value);
            foreach (var inner in Members(value, pointer))
            {
                yield return inner;
            }
        }
    }
}
