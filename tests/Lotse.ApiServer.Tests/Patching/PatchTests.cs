using System.Text.Json.Nodes;
using Lotse.ApiServer.Patching;

namespace Lotse.ApiServer.Tests.Patching;

public sealed class PatchTests
{
    private static JsonObject O(string json) => JsonNode.Parse(json)!.AsObject();

    [Fact]
    public void MergePatch_NullRemovesObjectsMergeScalarsReplace()
    {
        var result = JsonMergePatch.Apply(O("""{"a":"b","c":{"d":"e","f":"g"}}"""), O("""{"a":"z","c":{"f":null}}"""));
        Assert.Equal("""{"a":"z","c":{"d":"e"}}""", result!.ToJsonString());
    }

    [Fact]
    public void JsonPatch_AddReplaceRemoveMoveCopyTest()
    {
        var doc = O("""{"a":{"b":1},"l":[1,2]}""");
        var patch = JsonNode.Parse("""[{"op":"test","path":"/a/b","value":1},{"op":"add","path":"/l/-","value":3},{"op":"replace","path":"/a/b","value":2},{"op":"copy","from":"/a","path":"/c"},{"op":"move","from":"/l/0","path":"/first"},{"op":"remove","path":"/a"}]""")!;
        Assert.Equal("""{"l":[2,3],"c":{"b":2},"first":1}""", JsonPatch.Apply(doc, patch).ToJsonString());
        Assert.Equal("""{"a":{"b":1},"l":[1,2]}""", doc.ToJsonString()); // input untouched
    }

    [Fact]
    public void JsonPatch_FailedTest_DoesNotApply()
    {
        var ex = Assert.Throws<PatchException>(() => JsonPatch.Apply(O("""{"a":1}"""), JsonNode.Parse("""[{"op":"test","path":"/a","value":2}]""")!));
        Assert.False(ex.Malformed);
        Assert.Contains("test failed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void JsonPatch_UnknownOperation_IsMalformed() =>
        Assert.True(Assert.Throws<PatchException>(() => JsonPatch.Apply(O("{}"), JsonNode.Parse("""[{"op":"frob","path":"/a"}]""")!)).Malformed);

    [Fact]
    public void StrategicMerge_KubectlApplyPatch_MergesContainersByNameKeepingOtherFields()
    {
        var deployment = O("""{"metadata":{"labels":{"app":"web"}},"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.27","ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"}]},{"name":"sidecar","image":"busybox"}]}}}}""");
        var patch = O("""{"metadata":{"labels":{"tier":"front"}},"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"},{"name":"sidecar"}],"containers":[{"image":"nginx:1.28","name":"nginx","env":[{"name":"B","value":"2"}]}]}}}}""");
        var result = StrategicMergePatch.Apply(deployment, patch, PatchSchema.For("apps", "Deployment"));
        var containers = result["spec"]!["template"]!["spec"]!["containers"]!.AsArray();
        Assert.Equal(2, containers.Count);
        Assert.Equal("nginx:1.28", containers[0]!["image"]!.GetValue<string>());
        Assert.Equal(80, containers[0]!["ports"]![0]!["containerPort"]!.GetValue<int>());
        Assert.Equal(["A", "B"], containers[0]!["env"]!.AsArray().Select(e => e!["name"]!.GetValue<string>()));
        Assert.Equal("busybox", containers[1]!["image"]!.GetValue<string>());
        Assert.Equal("front", result["metadata"]!["labels"]!["tier"]!.GetValue<string>());
        Assert.DoesNotContain("$setElementOrder", result.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void StrategicMerge_PatchDeleteDirective_RemovesTheContainer()
    {
        var pod = O("""{"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}}""");
        var result = StrategicMergePatch.Apply(pod, O("""{"spec":{"containers":[{"name":"a","$patch":"delete"}]}}"""), PatchSchema.For("", "Pod"));
        Assert.Equal(["b"], result["spec"]!["containers"]!.AsArray().Select(c => c!["name"]!.GetValue<string>()));
    }

    [Fact]
    public void StrategicMerge_RetainKeys_DropsRollingUpdateWhenSwitchingToRecreate()
    {
        var deployment = O("""{"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%"}}}}""");
        var result = StrategicMergePatch.Apply(deployment, O("""{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"""), PatchSchema.For("apps", "Deployment"));
        Assert.Equal("""{"spec":{"strategy":{"type":"Recreate"}}}""", result.ToJsonString());
    }

    [Fact]
    public void StrategicMerge_DeleteFromPrimitiveList_AndUntaggedListsReplace()
    {
        var obj = O("""{"metadata":{"finalizers":["a","b"]},"spec":{"args":["x","y"]}}""");
        var result = StrategicMergePatch.Apply(obj, O("""{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]},"spec":{"args":["z"]}}"""), PatchSchema.Empty);
        Assert.Equal("""{"metadata":{"finalizers":["b"]},"spec":{"args":["z"]}}""", result.ToJsonString());
    }

    [Fact]
    public void StrategicMerge_CordonPatch_SetsAndClearsUnschedulable()
    {
        var node = O("""{"spec":{"podCIDR":"10.42.0.0/24"}}""");
        var cordoned = StrategicMergePatch.Apply(node, O("""{"spec":{"unschedulable":true}}"""), PatchSchema.For("", "Node"));
        Assert.True(cordoned["spec"]!["unschedulable"]!.GetValue<bool>());
        var uncordoned = StrategicMergePatch.Apply(cordoned, O("""{"spec":{"unschedulable":null}}"""), PatchSchema.For("", "Node"));
        Assert.Equal("""{"spec":{"podCIDR":"10.42.0.0/24"}}""", uncordoned.ToJsonString());
    }
}
