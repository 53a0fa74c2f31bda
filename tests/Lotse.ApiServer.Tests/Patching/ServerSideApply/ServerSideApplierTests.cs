using System.Text.Json.Nodes;
using Lotse.ApiServer.Apiextensions;
using Lotse.ApiServer.Patching;
using Lotse.ApiServer.Patching.ServerSideApply;

namespace Lotse.ApiServer.Tests.Patching.ServerSideApply;

public sealed class ServerSideApplierTests
{
    private const string Now = "2026-01-01T00:00:00Z";

    private static readonly System.Text.Json.JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static readonly PatchSchema Schema = CustomResourcePatchSchema.Build(JsonNode.Parse("""
        {"type":"object","properties":{"spec":{"type":"object","properties":{
          "items":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name"],
            "items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"value":{"type":"integer"},"note":{"type":"string"}}}},
          "ports":{"type":"array","x-kubernetes-list-type":"map","x-kubernetes-list-map-keys":["name","port"],
            "items":{"type":"object","required":["name"],"properties":{"name":{"type":"string"},"port":{"type":"integer","default":80},"host":{"type":"string"}}}},
          "tags":{"type":"array","x-kubernetes-list-type":"set","items":{"type":"string"}},
          "args":{"type":"array","items":{"type":"string"}},
          "selector":{"type":"object","x-kubernetes-map-type":"atomic","additionalProperties":{"type":"string"}},
          "labels":{"type":"object","additionalProperties":{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}}}},
          "replicas":{"type":"integer"}}},
          "status":{"type":"object","properties":{"phase":{"type":"string"}}}}}
        """)!.AsObject());

    private static JsonObject Obj(string spec) => JsonNode.Parse($$"""{"apiVersion":"e.com/v1","kind":"Thing","metadata":{"name":"t"},"spec":{{spec}} }""")!.AsObject();

    private static JsonObject Apply(JsonObject? live, string spec, string manager, bool force = false) =>
        ServerSideApplier.Apply(live, Obj(spec), Schema, manager, "e.com/v1", force, Now, FieldScope.Main);

    private static JsonObject Fields(JsonObject obj, string manager, string operation = "Apply") =>
        obj["metadata"]!["managedFields"]!.AsArray().Single(e => e!["manager"]!.GetValue<string>() == manager && e["operation"]!.GetValue<string>() == operation)!["fieldsV1"]!.AsObject();

    [Fact]
    public void Apply_TwoManagersOfOneMapList_BothKeepTheirItems()
    {
        var first = Apply(null, """{"items":[{"name":"a","value":1}]}""", "one");
        var both = Apply(first, """{"items":[{"name":"b","value":2}]}""", "two");
        Assert.Equal("""[{"name":"a","value":1},{"name":"b","value":2}]""", both["spec"]!["items"]!.ToJsonString(Relaxed));
        Assert.Equal("""{"f:spec":{"f:items":{"k:{\"name\":\"a\"}":{".":{},"f:name":{},"f:value":{}}}}}""", Fields(both, "one").ToJsonString(Relaxed));
        Assert.Equal("""{"f:spec":{"f:items":{"k:{\"name\":\"b\"}":{".":{},"f:name":{},"f:value":{}}}}}""", Fields(both, "two").ToJsonString(Relaxed));

        // One manager dropping its item removes only that item.
        var dropped = Apply(both, """{"items":[]}""", "one");
        Assert.Equal("""[{"name":"b","value":2}]""", dropped["spec"]!["items"]!.ToJsonString(Relaxed));
    }

    [Fact]
    public void Apply_ChangingAnotherManagersFieldOfAKeyedItem_Conflicts_TheSameValueIsShared()
    {
        var first = Apply(null, """{"items":[{"name":"a","value":1}]}""", "one");
        var conflict = Assert.Throws<ApplyConflictException>(() => Apply(first, """{"items":[{"name":"a","value":5}]}""", "two"));
        Assert.Equal("Apply failed with 1 conflict: conflict with \"one\": .spec.items[name=\"a\"].value", conflict.Message);

        var shared = Apply(first, """{"items":[{"name":"a","value":1,"note":"n"}]}""", "two");
        Assert.NotNull(Fields(shared, "one")["f:spec"]!["f:items"]!["k:{\"name\":\"a\"}"]!["f:value"]);
        Assert.NotNull(Fields(shared, "two")["f:spec"]!["f:items"]!["k:{\"name\":\"a\"}"]!["f:value"]);

        var forced = Apply(shared, """{"items":[{"name":"a","value":5}]}""", "two", force: true);
        Assert.Equal(5, forced["spec"]!["items"]![0]!["value"]!.GetValue<int>());
        Assert.Null(Fields(forced, "one")["f:spec"]!["f:items"]!["k:{\"name\":\"a\"}"]!["f:value"]);
    }

    [Fact]
    public void Apply_MultiKeyMapList_IdentifiesItemsByTheWholeTuple_WithKeyDefaults()
    {
        var first = Apply(null, """{"ports":[{"name":"web","port":80,"host":"a"},{"name":"web","port":443,"host":"b"}]}""", "one");
        Assert.NotNull(Fields(first, "one")["f:spec"]!["f:ports"]!["k:{\"name\":\"web\",\"port\":443}"]);
        var conflict = Assert.Throws<ApplyConflictException>(() => Apply(first, """{"ports":[{"name":"web","host":"c"}]}""", "two"));
        Assert.Equal(".spec.ports[name=\"web\",port=80].host", conflict.Conflicts.Single().Field);
    }

    [Fact]
    public void Apply_SetList_OwnsMembers_AtomicListsAndMaps_AreOwnedWhole()
    {
        var first = Apply(null, """{"tags":["x"],"args":["a","b"],"selector":{"k":"v"}}""", "one");
        Assert.Equal("""{"f:spec":{"f:args":{},"f:selector":{},"f:tags":{"v:\"x\"":{}}}}""", Fields(first, "one").ToJsonString(Relaxed));
        var both = Apply(first, """{"tags":["y"]}""", "two");
        Assert.Equal("""["x","y"]""", both["spec"]!["tags"]!.ToJsonString(Relaxed));

        var list = Assert.Throws<ApplyConflictException>(() => Apply(both, """{"args":["c"]}""", "two"));
        Assert.Equal(".spec.args", list.Conflicts.Single().Field);
        var map = Assert.Throws<ApplyConflictException>(() => Apply(both, """{"selector":{"other":"v"}}""", "two"));
        Assert.Equal(".spec.selector", map.Conflicts.Single().Field);

        var replaced = Apply(both, """{"tags":["x"],"args":["c"],"selector":{"other":"v"}}""", "one");
        Assert.Equal("""["c"]""", replaced["spec"]!["args"]!.ToJsonString(Relaxed));
        Assert.Equal("""{"other":"v"}""", replaced["spec"]!["selector"]!.ToJsonString(Relaxed));
    }

    [Fact]
    public void Apply_MapEntriesOfAdditionalProperties_AreMembersWithTheirFields()
    {
        var applied = Apply(null, """{"labels":{"k":{"a":"1"}}}""", "one");
        Assert.Equal("""{"f:spec":{"f:labels":{"f:k":{".":{},"f:a":{}}}}}""", Fields(applied, "one").ToJsonString(Relaxed));
        var merged = Apply(applied, """{"labels":{"k":{"b":"2"}}}""", "two");
        Assert.Equal("""{"a":"1","b":"2"}""", merged["spec"]!["labels"]!["k"]!.ToJsonString(Relaxed));
    }

    [Fact]
    public void RecordUpdate_OnCreate_OwnsEverythingItSet_AnApplyThenConflictsWithIt()
    {
        var created = Obj("""{"replicas":1,"items":[{"name":"a","value":1}]}""");
        ServerSideApplier.RecordUpdate(created, null, Schema, "kubectl-create", "e.com/v1", null, Now, FieldScope.Main);
        var entry = created["metadata"]!["managedFields"]![0]!;
        Assert.Equal(("kubectl-create", "Update", "e.com/v1", Now), (entry["manager"]!.GetValue<string>(), entry["operation"]!.GetValue<string>(), entry["apiVersion"]!.GetValue<string>(), entry["time"]!.GetValue<string>()));
        Assert.Equal("""{"f:spec":{".":{},"f:items":{".":{},"k:{\"name\":\"a\"}":{".":{},"f:name":{},"f:value":{}}},"f:replicas":{}}}""", entry["fieldsV1"]!.ToJsonString(Relaxed));

        var conflict = Assert.Throws<ApplyConflictException>(() => Apply(created, """{"replicas":3}""", "ssa"));
        Assert.Equal("Apply failed with 1 conflict: conflict with \"kubectl-create\" using e.com/v1: .spec.replicas", conflict.Message);
        Assert.NotNull(Apply(created, """{"replicas":1}""", "ssa"));
    }

    [Fact]
    public void RecordUpdate_TakesChangedFieldsFromOthers_AndRemovedFieldsLeaveEverySet()
    {
        var applied = Apply(null, """{"replicas":1,"tags":["x","y"]}""", "ssa");
        var edited = (JsonObject)applied.DeepClone();
        edited["spec"]!["replicas"] = 4;
        edited["spec"]!["tags"] = new JsonArray("x");
        ServerSideApplier.RecordUpdate(edited, applied, Schema, "kubectl-edit", "e.com/v1", null, Now, FieldScope.Main);
        Assert.Equal("""{"f:spec":{"f:tags":{"v:\"x\"":{}}}}""", Fields(edited, "ssa").ToJsonString(Relaxed));
        Assert.Equal("""{"f:spec":{"f:replicas":{}}}""", Fields(edited, "kubectl-edit", "Update").ToJsonString(Relaxed));

        var conflict = Assert.Throws<ApplyConflictException>(() => Apply(edited, """{"replicas":2,"tags":["x"]}""", "ssa"));
        Assert.Equal("conflict with \"kubectl-edit\" using e.com/v1", "conflict with " + conflict.Conflicts.Single().Who);
    }

    [Fact]
    public void RecordUpdate_AnUntrackedObject_StaysUntracked_AndOneEmptyEntryClearsThem()
    {
        var old = Obj("""{"replicas":1}""");
        var updated = Obj("""{"replicas":2}""");
        ServerSideApplier.RecordUpdate(updated, old, Schema, "x", "e.com/v1", null, Now, FieldScope.Main);
        Assert.Null(updated["metadata"]!["managedFields"]);

        var tracked = Apply(null, """{"replicas":1}""", "ssa");
        var cleared = (JsonObject)tracked.DeepClone();
        cleared["metadata"]!["managedFields"] = JsonNode.Parse("[{}]");
        cleared["spec"]!["replicas"] = 3;
        ServerSideApplier.RecordUpdate(cleared, tracked, Schema, "x", "e.com/v1", null, Now, FieldScope.Main);
        Assert.Null(cleared["metadata"]!["managedFields"]);
    }

    [Fact]
    public void RecordUpdate_PastTenUpdaters_MergesTheOldestIntoAncientChanges()
    {
        var obj = Apply(null, """{"replicas":0}""", "ssa");
        for (var i = 1; i <= 12; i++)
        {
            var next = (JsonObject)obj.DeepClone();
            next["spec"]!["m" + i] = i; // a field only this updater sets
            ServerSideApplier.RecordUpdate(next, obj, PatchSchema.Empty, $"updater-{i:D2}", "e.com/v1", null, $"2026-01-01T00:00:{i:D2}Z", FieldScope.Main);
            obj = next;
        }

        var entries = obj["metadata"]!["managedFields"]!.AsArray();
        var updaters = entries.Where(e => e!["operation"]!.GetValue<string>() == "Update").ToList();
        Assert.Equal(10, updaters.Count);
        var ancient = updaters.Single(e => e!["manager"]!.GetValue<string>() == ServerSideApplier.AncientChanges)!;
        Assert.Equal(["f:m1", "f:m2", "f:m3"], ancient["fieldsV1"]!["f:spec"]!.AsObject().Select(kv => kv.Key));
        Assert.Equal("2026-01-01T00:00:03Z", ancient["time"]!.GetValue<string>());
        Assert.DoesNotContain(updaters, e => e!["manager"]!.GetValue<string>() is "updater-01" or "updater-02" or "updater-03");
        Assert.Equal("Apply", entries[0]!["operation"]!.GetValue<string>());
    }

    [Fact]
    public void Apply_ToAnObjectWithoutManagedFields_ConflictsWithBeforeFirstApply()
    {
        var live = Obj("""{"replicas":1,"tags":["x"]}""");
        var conflict = Assert.Throws<ApplyConflictException>(() => Apply(live, """{"replicas":2}""", "ssa"));
        Assert.Equal("Apply failed with 1 conflict: conflict with \"before-first-apply\" using e.com/v1: .spec.replicas", conflict.Message);
        var forced = Apply(live, """{"replicas":2}""", "ssa", force: true);
        Assert.Equal(["ssa", "before-first-apply"], forced["metadata"]!["managedFields"]!.AsArray().Select(e => e!["manager"]!.GetValue<string>()));
    }

    [Fact]
    public void FieldSet_RoundTripsFieldsV1_WithMembersThatHaveChildren()
    {
        const string Json = """{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:items":{"k:{\"name\":\"a\"}":{".":{},"f:value":{}}}}}""";
        var set = FieldSet.FromJson(JsonNode.Parse(Json));
        Assert.Equal(Json, set.ToJson().ToJsonString(Relaxed));
        Assert.True(set.Has(["f:metadata", "f:labels"]));
        Assert.False(set.Has(["f:metadata"]));
        set.Delete(["f:metadata", "f:labels"]);
        Assert.Equal("""{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:items":{"k:{\"name\":\"a\"}":{".":{},"f:value":{}}}}}""", set.ToJson().ToJsonString(Relaxed));
    }

    [Theory]
    [InlineData("""["a","b"]""", """["c","a"]""", """["c","a","b"]""")]
    [InlineData("""["a","b"]""", """["a","c"]""", """["a","b","c"]""")]
    [InlineData("""["a","b"]""", """["b","a"]""", """["b","a"]""")]
    [InlineData("""["a","x","b"]""", """["b","n","a"]""", """["b","x","n","a"]""")]
    public void ApplyMerge_SetLists_KeepLiveOrder_SharedItemsFollowTheConfiguration(string live, string config, string expected)
    {
        var merged = ApplyMerge.Merge(Obj($$"""{"tags":{{live}} }"""), Obj($$"""{"tags":{{config}} }"""), Schema);
        Assert.Equal(expected, merged["spec"]!["tags"]!.ToJsonString(Relaxed));
    }

    [Fact]
    public void Apply_AsKubectl_AfterClientSideApply_TakesOverWhatTheLastAppliedAnnotationStillSays()
    {
        var created = JsonNode.Parse("""
            {"apiVersion":"e.com/v1","kind":"Thing","metadata":{"name":"t","annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"apiVersion\":\"e.com/v1\",\"kind\":\"Thing\",\"metadata\":{\"annotations\":{},\"name\":\"t\"},\"spec\":{\"replicas\":1,\"tags\":[\"x\"]}}\n"}},
             "spec":{"replicas":1,"tags":["x"]}}
            """)!.AsObject();
        ServerSideApplier.RecordUpdate(created, null, Schema, "kubectl-client-side-apply", "e.com/v1", null, Now, FieldScope.Main);

        var applied = ServerSideApplier.Apply(created, Obj("""{"replicas":3,"tags":["x"]}"""), Schema, "kubectl", "e.com/v1", false, Now, FieldScope.Main);
        Assert.Equal(3, applied["spec"]!["replicas"]!.GetValue<int>());
        Assert.Null(Fields(applied, "kubectl-client-side-apply", "Update")["f:spec"]?["f:replicas"]);
        Assert.Equal("""{"apiVersion":"e.com/v1","kind":"Thing","metadata":{"name":"t"},"spec":{"replicas":3,"tags":["x"]}}""" + "\n",
            applied["metadata"]!["annotations"]!["kubectl.kubernetes.io/last-applied-configuration"]!.GetValue<string>());

        // A field another writer changed since the client-side apply still conflicts, for kubectl too.
        var scaled = (JsonObject)created.DeepClone();
        scaled["spec"]!["replicas"] = 2;
        ServerSideApplier.RecordUpdate(scaled, created, Schema, "scaler", "e.com/v1", null, Now, FieldScope.Main);
        var conflict = Assert.Throws<ApplyConflictException>(() => ServerSideApplier.Apply(scaled, Obj("""{"replicas":3,"tags":["x","z"]}"""), Schema, "kubectl", "e.com/v1", false, Now, FieldScope.Main));
        Assert.Equal("Apply failed with 1 conflict: conflict with \"scaler\" using e.com/v1: .spec.replicas", conflict.Message);

        // Another manager name gets the conflicts kube gives it.
        var other = Assert.Throws<ApplyConflictException>(() => ServerSideApplier.Apply(created, Obj("""{"replicas":3}"""), Schema, "other", "e.com/v1", false, Now, FieldScope.Main));
        Assert.Equal("Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using e.com/v1: .spec.replicas", other.Message);
    }
}
