using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Lotse.ApiServer.Patching;
using static Lotse.ApiServer.Tests.Patching.JsonAssert;

namespace Lotse.ApiServer.Tests.Patching;

public sealed class JsonMergePatchTests
{
    // RFC 7386 appendix A, one row per example.
    [Theory]
    [InlineData("""{"a":"b"}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"b":"c"}""", """{"a":"b","b":"c"}""")]
    [InlineData("""{"a":"b"}""", """{"a":null}""", """{}""")]
    [InlineData("""{"a":"b","b":"c"}""", """{"a":null}""", """{"b":"c"}""")]
    [InlineData("""{"a":["b"]}""", """{"a":"c"}""", """{"a":"c"}""")]
    [InlineData("""{"a":"c"}""", """{"a":["b"]}""", """{"a":["b"]}""")]
    [InlineData("""{"a":{"b":"c"}}""", """{"a":{"b":"d","c":null}}""", """{"a":{"b":"d"}}""")]
    [InlineData("""{"a":[{"b":"c"}]}""", """{"a":[1]}""", """{"a":[1]}""")]
    [InlineData("""["a","b"]""", """["c","d"]""", """["c","d"]""")]
    [InlineData("""{"a":"b"}""", """["c"]""", """["c"]""")]
    [InlineData("""{"a":"foo"}""", "null", "null")]
    [InlineData("""{"a":"foo"}""", "\"bar\"", "\"bar\"")]
    [InlineData("""{"e":null}""", """{"a":1}""", """{"e":null,"a":1}""")]
    [InlineData("""[1,2]""", """{"a":"b","c":null}""", """{"a":"b"}""")]
    [InlineData("""{}""", """{"a":{"bb":{"ccc":null}}}""", """{"a":{"bb":{}}}""")]
    public void Apply_Rfc7386AppendixExamples_GiveTheRfcResults(string target, string patch, string expected) =>
        Equal(expected, JsonMergePatch.Apply(Node(target), Node(patch)));

    [Fact]
    public void Apply_Rfc7386Section3Example_ChangesTitleDropsPhoneNumberAndReplacesTags()
    {
        var target = Node("""{"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},"tags":["example","sample"],"content":"This will be unchanged"}""");
        var patch = Node("""{"title":"Hello!","phoneNumber":"+01-123-456-7890","author":{"familyName":null},"tags":["example"]}""");
        Equal("""{"title":"Hello!","author":{"givenName":"John"},"tags":["example"],"content":"This will be unchanged","phoneNumber":"+01-123-456-7890"}""",
            JsonMergePatch.Apply(target, patch));
    }

    [Fact]
    public void Apply_KubectlLabelPatch_AddsOneLabelAndRemovesAnother()
    {
        var pod = Object("""{"metadata":{"name":"web","labels":{"app":"web","old":"x"}},"spec":{"containers":[{"name":"c"}]}}""");
        var result = JsonMergePatch.Apply(pod, Node("""{"metadata":{"labels":{"env":"prod","old":null}}}"""));
        Equal("""{"metadata":{"name":"web","labels":{"app":"web","env":"prod"}},"spec":{"containers":[{"name":"c"}]}}""", result);
    }

    [Fact]
    public void Apply_Always_LeavesInputsUntouchedAndSharesNoNodes()
    {
        var target = Object("""{"a":{"b":1,"c":[1,2]},"d":"x"}""");
        var patch = Object("""{"a":{"b":null,"e":{"f":[3]}},"d":{"g":1}}""");
        var (targetText, patchText) = (target.ToJsonString(), patch.ToJsonString());

        var result = JsonMergePatch.Apply(target, patch)!.AsObject();
        result["a"]!["e"]!["f"]!.AsArray().Add(4);
        result["d"]!["g"] = 2;
        result["a"]!["c"]!.AsArray().Add(9);

        Assert.Equal(targetText, target.ToJsonString());
        Assert.Equal(patchText, patch.ToJsonString());
    }

    /// <summary>
    /// For any two documents whose objects hold no null members (a merge patch cannot produce one),
    /// applying the merge patch that describes their difference turns the first into the second.
    /// </summary>
    [Fact]
    public void Apply_DiffOfTwoRandomDocuments_TurnsTheFirstIntoTheSecond()
    {
        var pairs = JsonGen.Object(3, nullMembers: true).SelectMany(a => JsonGen.Object(3, nullMembers: false).Select(b => (A: a, B: b)));
        Prop.ForAll(pairs.ToArbitrary(), pair =>
            {
                var patch = Diff(pair.A, pair.B);
                return JsonNode.DeepEquals(JsonMergePatch.Apply(pair.A, patch), pair.B);
            })
            .Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }

    /// <summary>Our own simple diff: removed members become null, objects recurse, anything else that changed is replaced.</summary>
    private static JsonObject Diff(JsonObject from, JsonObject to)
    {
        var patch = new JsonObject();
        foreach (var (name, _) in from)
        {
            if (!to.ContainsKey(name))
            {
                patch[name] = null;
            }
        }

        foreach (var (name, value) in to)
        {
            var hadIt = from.TryGetPropertyValue(name, out var old);
            if (value is JsonObject toChild && old is JsonObject fromChild)
            {
                patch[name] = Diff(fromChild, toChild);
            }
            else if (!hadIt || !JsonNode.DeepEquals(old, value))
            {
                patch[name] = value?.DeepClone();
            }
        }

        return patch;
    }
}
