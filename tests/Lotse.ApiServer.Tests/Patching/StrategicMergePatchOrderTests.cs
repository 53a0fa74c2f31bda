using System.Text.Json.Nodes;
using Lotse.ApiServer.Patching;
using static Lotse.ApiServer.Tests.Patching.JsonAssert;

namespace Lotse.ApiServer.Tests.Patching;

/// <summary>
/// The order of merged lists must be byte-for-byte what kube-apiserver produces, since clients diff
/// against it (kubectl apply computes its next patch from the live order). The scenarios are those
/// apimachinery's strategicpatch tests pin down for the three-way (kubectl apply) case.
/// </summary>
public sealed class StrategicMergePatchOrderTests
{
    private static readonly PatchSchema Pod = PatchSchema.For("", "Pod");

    /// <summary>A pod whose containers are named by the arguments; "n=image" also sets the image.</summary>
    private static JsonObject PodWith(params string[] containers) => new()
    {
        ["spec"] = new JsonObject
        {
            ["containers"] = new JsonArray([.. containers.Select(c => (JsonNode)(c.Split('=') is [var n, var image]
                ? new JsonObject { ["name"] = n, ["image"] = image }
                : new JsonObject { ["name"] = c }))]),
        },
    };

    private static string[] ApplyToContainers(JsonObject pod, string specPatch) =>
        Names(StrategicMergePatch.Apply(pod, Object($$"""{"spec":{{specPatch}}}"""), Pod)["spec"]!["containers"]);

    private static string Order(params string[] names) => "[" + string.Join(",", names.Select(n => $$"""{"name":"{{n}}"}""")) + "]";

    [Fact]
    public void ElementOrder_AddedItemFirst_PutsItFirst() =>
        Assert.Equal(["3", "1", "2"], ApplyToContainers(PodWith("1", "2"), $$"""{"$setElementOrder/containers":{{Order("3", "1", "2")}},"containers":[{"name":"3","image":"x"}]}"""));

    [Fact]
    public void ElementOrder_AddedItemsBetweenAndAfter_LandWhereTheOrderSays() =>
        Assert.Equal(["1", "4", "2", "3"], ApplyToContainers(PodWith("1", "2"), $$"""{"$setElementOrder/containers":{{Order("1", "4", "2", "3")}},"containers":[{"name":"4"},{"name":"3"}]}"""));

    [Fact]
    public void ElementOrder_ServerOnlyItemAtTheEnd_StaysAtTheEnd() =>
        Assert.Equal(["4", "2", "3", "1", "9"], ApplyToContainers(PodWith("1", "3", "4", "2", "9"), $$"""{"$setElementOrder/containers":{{Order("4", "2", "3", "1")}}}"""));

    [Fact]
    public void ElementOrder_ServerOnlyItemInTheMiddle_KeepsItsPlaceRelativeToItsNeighbours() =>
        Assert.Equal(["2", "1", "9", "4", "3"], ApplyToContainers(PodWith("1", "2", "9", "3", "4"), $$"""{"$setElementOrder/containers":{{Order("2", "1", "4", "3")}}}"""));

    [Fact]
    public void ElementOrder_RunOfServerOnlyItems_StaysTogether() =>
        Assert.Equal(["2", "1", "7", "9", "8", "4", "3"], ApplyToContainers(PodWith("1", "2", "7", "9", "8", "3", "4"), $$"""{"$setElementOrder/containers":{{Order("2", "1", "4", "3")}}}"""));

    [Fact]
    public void ElementOrder_DeleteOneAndAddOneWithAServerOnlyItem_MatchesKubesArrayReuse()
    {
        // kube reuses the live list's backing array for the deletion and the addition, so its order pass
        // sees the new item where the deleted one was: the sidecar stays before the new container.
        var names = ApplyToContainers(PodWith("1", "2", "4"), $$"""{"$setElementOrder/containers":{{Order("2", "3")}},"containers":[{"name":"3"},{"$patch":"delete","name":"1"}]}""");
        Assert.Equal(["2", "4", "3"], names);
    }

    [Fact]
    public void ElementOrder_ReorderOnly_ReordersWithoutChangingItems()
    {
        var result = StrategicMergePatch.Apply(PodWith("a=x", "b=y"), Object("""{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}]}}"""), Pod);
        Equal("""[{"name":"b","image":"y"},{"name":"a","image":"x"}]""", result["spec"]!["containers"]);
    }

    [Fact]
    public void ElementOrder_DeleteInOneListReorderAnother_BothApply()
    {
        var pod = Object("""{"spec":{"containers":[{"name":"a"},{"name":"b"}],"initContainers":[{"name":"c"},{"name":"d"}]}}""");
        var patch = Object("""{"spec":{"$setElementOrder/containers":[{"name":"b"}],"$setElementOrder/initContainers":[{"name":"d"},{"name":"c"}],"containers":[{"$patch":"delete","name":"a"}]}}""");
        var result = StrategicMergePatch.Apply(pod, patch, Pod);
        Equal("""{"spec":{"containers":[{"name":"b"}],"initContainers":[{"name":"d"},{"name":"c"}]}}""", result);
    }

    [Fact]
    public void ElementOrder_DuplicatesInTheLiveList_GroupAtTheirFirstPosition()
    {
        var result = StrategicMergePatch.Apply(PodWith("1", "2=dup1", "3", "2=dup2", "4"), Object($$$"""{"spec":{"$setElementOrder/containers":{{{Order("2", "1", "4", "3", "2")}}}}}"""), Pod);
        Equal("""[{"name":"2","image":"dup1"},{"name":"2","image":"dup2"},{"name":"1"},{"name":"4"},{"name":"3"}]""", result["spec"]!["containers"]);
    }

    [Fact]
    public void ElementOrder_NamingItemsNobodyHas_IgnoresThem() =>
        Assert.Equal(["3", "1"], ApplyToContainers(PodWith("1", "3"), $$"""{"$setElementOrder/containers":{{Order("3", "2", "1")}},"containers":[{"name":"3","image":"x"},{"name":"1","image":"y"}]}"""));

    [Fact]
    public void ElementOrder_ForAListTheObjectLacks_OrdersThePatchList() =>
        Assert.Equal(["b", "a"], Names(StrategicMergePatch.Apply(Object("""{"spec":{}}"""),
            Object("""{"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"name":"b"},{"name":"a"}]}}"""), Pod)["spec"]!["containers"]));

    [Fact]
    public void ElementOrder_ThatContradictsThePatchList_IsABadRequest()
    {
        var ex = Assert.Throws<PatchException>(() => StrategicMergePatch.Apply(PodWith("1", "3", "2"),
            Object($$$"""{"spec":{"$setElementOrder/containers":{{{Order("1", "2", "3")}}},"containers":[{"name":"3"},{"name":"1"}]}}"""), Pod));
        Assert.Contains("doesn't match $setElementOrder list", ex.Message, StringComparison.Ordinal);
        Assert.True(ex.Malformed);
    }

    [Fact]
    public void NoElementOrder_ChangedItemsKeepTheirPlaceAndNewOnesGoBeforeTheRest()
    {
        Assert.Equal(["1", "2", "3"], ApplyToContainers(PodWith("1", "2", "3"), """{"containers":[{"name":"2","image":"x"}]}"""));
        Assert.Equal(["2", "1", "3"], ApplyToContainers(PodWith("1", "2", "3"), """{"containers":[{"name":"2"},{"name":"1"}]}"""));
        Assert.Equal(["1", "2", "9", "3"], ApplyToContainers(PodWith("1", "2", "3"), """{"containers":[{"name":"2"},{"name":"9"}]}"""));
        Assert.Equal(["9", "1", "2"], ApplyToContainers(PodWith("1", "2"), """{"containers":[{"name":"9"}]}"""));
    }

    [Theory]
    [InlineData("""["c"]""", null, """["c","a","b"]""")]
    [InlineData("""["b","c"]""", null, """["a","b","c"]""")]
    [InlineData("""["c"]""", """["a","c","b"]""", """["a","c","b"]""")]
    [InlineData("""["b","a"]""", """["b","a"]""", """["b","a"]""")]
    [InlineData(null, """["b","x","a"]""", """["b","a"]""")]
    public void PrimitiveList_IsAnOrderedSetOrderedLikeMaps(string? finalizers, string? order, string expected)
    {
        var patch = new JsonObject();
        if (finalizers is not null)
        {
            patch["finalizers"] = Node(finalizers);
        }

        if (order is not null)
        {
            patch["$setElementOrder/finalizers"] = Node(order);
        }

        var result = StrategicMergePatch.Apply(Object("""{"metadata":{"finalizers":["a","b"]}}"""), new JsonObject { ["metadata"] = patch }, Pod);
        Equal(expected, result["metadata"]!["finalizers"]);
    }
}
