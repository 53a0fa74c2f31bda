using System.Text.Json.Nodes;
using FsCheck;
using FsCheck.Fluent;
using Lotse.ApiServer.Patching;
using static Lotse.ApiServer.Tests.Patching.JsonAssert;

namespace Lotse.ApiServer.Tests.Patching;

public sealed class StrategicMergePatchTests
{
    private static readonly PatchSchema Pod = PatchSchema.For("", "Pod");
    private static readonly PatchSchema Deployment = PatchSchema.For("apps", "Deployment");

    private const string LivePod = """
        {"apiVersion":"v1","kind":"Pod",
         "metadata":{"name":"web","namespace":"default","uid":"u1","resourceVersion":"7","labels":{"app":"web"},
                     "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"old\":true}","note":"keep"}},
         "spec":{"containers":[{"name":"nginx","image":"nginx:1.27","imagePullPolicy":"IfNotPresent",
                                "ports":[{"containerPort":80,"protocol":"TCP"}],
                                "env":[{"name":"A","value":"1"}],
                                "resources":{"limits":{"memory":"128Mi"}},
                                "volumeMounts":[{"name":"data","mountPath":"/data"}],
                                "terminationMessagePath":"/dev/termination-log"}],
                 "volumes":[{"name":"data","emptyDir":{}}],
                 "restartPolicy":"Always","nodeName":"node-1"},
         "status":{"phase":"Running","podIP":"10.42.0.9"}}
        """;

    private static JsonObject Smp(string original, string patch, PatchSchema schema) =>
        StrategicMergePatch.Apply(Object(original), Object(patch), schema);

    private static JsonNode Containers(JsonObject pod) => pod["spec"]!["containers"]!;

    [Fact]
    public void Apply_KubectlApplyPatchFromTheSurvey_ChangesOnlyTheImageAndLabels()
    {
        var patch = """
            {"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"new\":true}"},"labels":{"tier":"front"}},
             "spec":{"$setElementOrder/containers":[{"name":"nginx"}],"containers":[{"image":"nginx:1.28","name":"nginx"}]}}
            """;
        var result = Smp(LivePod, patch, Pod);

        var expected = Object(LivePod);
        expected["metadata"]!["annotations"]!["kubectl.kubernetes.io/last-applied-configuration"] = "{\"new\":true}";
        expected["metadata"]!["labels"]!["tier"] = "front";
        expected["spec"]!["containers"]![0]!["image"] = "nginx:1.28";
        Equal(expected, result);
        Assert.DoesNotContain("$", result.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Apply_KubectlApplyPatchOnADeployment_MergesContainersByNameAndKeepsTheSidecar()
    {
        var deployment = """
            {"metadata":{"name":"web","labels":{"app":"web"}},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},
                     "template":{"metadata":{"labels":{"app":"web"}},
                                 "spec":{"containers":[{"name":"nginx","image":"nginx:1.27","ports":[{"containerPort":80}]},
                                                       {"name":"istio-proxy","image":"proxy:1"}]}}}}
            """;
        var patch = """
            {"metadata":{"labels":{"tier":"front"}},
             "spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"nginx"}],"containers":[{"image":"nginx:1.28","name":"nginx"}]}}}}
            """;
        var result = Smp(deployment, patch, Deployment);

        var containers = result["spec"]!["template"]!["spec"]!["containers"]!;
        Assert.Equal(["nginx", "istio-proxy"], Names(containers));
        Equal("""{"name":"nginx","image":"nginx:1.28","ports":[{"containerPort":80}]}""", containers[0]);
        Equal("""{"name":"istio-proxy","image":"proxy:1"}""", containers[1]);
        Equal("""{"app":"web","tier":"front"}""", result["metadata"]!["labels"]);
        Assert.Equal(2, result["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public void Apply_EnvMergesByName_UpdatingAddingAndKeepingServerOnlyVariables()
    {
        var pod = """{"spec":{"containers":[{"name":"c","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}""";
        var result = Smp(pod, """{"spec":{"containers":[{"name":"c","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}}""", Pod);
        Equal("""[{"name":"A","value":"1"},{"name":"B","value":"3"},{"name":"C","value":"4"}]""", Containers(result)[0]!["env"]);
    }

    [Fact]
    public void Apply_KubectlSetEnvPatch_DeletesAndAddsInTheOrderGiven()
    {
        // kubectl set env c A- D=5 sends the whole desired order and a delete directive.
        var pod = """{"spec":{"containers":[{"name":"c","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}""";
        var patch = """{"spec":{"containers":[{"name":"c","$setElementOrder/env":[{"name":"B"},{"name":"D"}],"env":[{"name":"D","value":"5"},{"$patch":"delete","name":"A"}]}]}}""";
        Equal("""[{"name":"B","value":"2"},{"name":"D","value":"5"}]""", Containers(Smp(pod, patch, Pod))[0]!["env"]);
    }

    [Fact]
    public void Apply_NewItemWithoutElementOrder_IsPrependedAsKubeDoes()
    {
        // kube-apiserver puts patch items the server lacked before the server-only items; the
        // kubernetes.io "update API object with kubectl patch" task shows the same for containers.
        var pod = """{"spec":{"containers":[{"name":"patch-demo-ctr","image":"nginx"}]}}""";
        var result = Smp(pod, """{"spec":{"containers":[{"name":"patch-demo-ctr-2","image":"redis"}]}}""", Pod);
        Assert.Equal(["patch-demo-ctr-2", "patch-demo-ctr"], Names(Containers(result)));
    }

    [Fact]
    public void Apply_PatchDeleteDirective_RemovesTheContainer()
    {
        var pod = """{"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}}""";
        var result = Smp(pod, """{"spec":{"containers":[{"name":"a","$patch":"delete"}]}}""", Pod);
        Equal("""[{"name":"b","image":"y"}]""", Containers(result));
    }

    [Fact]
    public void Apply_PatchReplaceOnAMap_ReplacesItInsteadOfMerging()
    {
        var pod = """{"spec":{"nodeSelector":{"zone":"a","disk":"hdd"},"containers":[]}}""";
        var result = Smp(pod, """{"spec":{"nodeSelector":{"$patch":"replace","disk":"ssd"}}}""", Pod);
        Equal("""{"disk":"ssd"}""", result["spec"]!["nodeSelector"]);
    }

    [Fact]
    public void Apply_PatchReplaceInsideAMergedList_MakesThePatchItemsTheWholeList()
    {
        var pod = """{"spec":{"containers":[{"name":"a","image":"x"},{"name":"b","image":"y"}]}}""";
        var result = Smp(pod, """{"spec":{"containers":[{"$patch":"replace"},{"name":"c","image":"z"}]}}""", Pod);
        Equal("""[{"name":"c","image":"z"}]""", Containers(result));
    }

    [Fact]
    public void Apply_PatchDeleteOnAWholeMap_LeavesAnEmptyMapAsKubeDoes()
    {
        var result = Smp("""{"spec":{"securityContext":{"runAsUser":1000},"containers":[]}}""", """{"spec":{"securityContext":{"$patch":"delete"}}}""", Pod);
        Equal("""{"securityContext":{},"containers":[]}""", result["spec"]);
    }

    [Fact]
    public void Apply_PatchMergeOnAMap_IsAnOrdinaryMerge() =>
        Equal("""{"metadata":{"labels":{"a":"1","b":"2"}}}""", Smp("""{"metadata":{"labels":{"a":"1"}}}""", """{"metadata":{"labels":{"$patch":"merge","b":"2"}}}""", Pod));

    [Fact]
    public void Apply_RetainKeysOnDeploymentStrategy_DropsRollingUpdateWhenSwitchingToRecreate()
    {
        var deployment = """{"spec":{"replicas":1,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}}}}""";
        var result = Smp(deployment, """{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}""", Deployment);
        Equal("""{"spec":{"replicas":1,"strategy":{"type":"Recreate"}}}""", result);
        Assert.True(Deployment.Lookup("spec.strategy").Strategy.HasFlag(PatchStrategy.RetainKeys));
    }

    [Fact]
    public void Apply_RetainKeysOnAVolume_SwitchesItsSource()
    {
        var pod = """{"spec":{"containers":[],"volumes":[{"name":"cfg","configMap":{"name":"a"}},{"name":"tmp","emptyDir":{}}]}}""";
        var patch = """{"spec":{"$setElementOrder/volumes":[{"name":"cfg"},{"name":"tmp"}],"volumes":[{"$retainKeys":["name","secret"],"name":"cfg","secret":{"secretName":"s"}}]}}""";
        Equal("""[{"name":"cfg","secret":{"secretName":"s"}},{"name":"tmp","emptyDir":{}}]""", Smp(pod, patch, Pod)["spec"]!["volumes"]);
    }

    [Fact]
    public void Apply_RetainKeysThatDoNotCoverThePatch_IsABadRequest()
    {
        var ex = Assert.Throws<PatchException>(() => Smp("""{"spec":{"strategy":{}}}""", """{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":{}}}}""", Deployment));
        Assert.Equal("invalid patch format of retainKeys", ex.Message);
        Assert.Equal(400, ex.StatusCode);
    }

    [Fact]
    public void Apply_DeleteFromPrimitiveListOfFinalizers_RemovesOnlyThoseValues()
    {
        var pod = """{"metadata":{"finalizers":["a.io/x","b.io/y","c.io/z"]}}""";
        Equal("""["a.io/x","c.io/z"]""", Smp(pod, """{"metadata":{"$deleteFromPrimitiveList/finalizers":["b.io/y","missing"]}}""", Pod)["metadata"]!["finalizers"]);
    }

    [Fact]
    public void Apply_DeleteFromPrimitiveListOfAnAbsentListOrWithNull_FollowsKube()
    {
        Equal("""{"metadata":{"name":"p"}}""", Smp("""{"metadata":{"name":"p"}}""", """{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}""", Pod));
        Equal("""{"metadata":{"name":"p"}}""", Smp("""{"metadata":{"name":"p","finalizers":["a"]}}""", """{"metadata":{"$deleteFromPrimitiveList/finalizers":null}}""", Pod));
    }

    [Fact]
    public void Apply_FinalizersMergeAsASet_AndUntaggedPrimitiveListsAreReplaced()
    {
        var pod = """{"metadata":{"finalizers":["a","b"]},"spec":{"containers":[{"name":"c","args":["x","y"]}]}}""";
        var result = Smp(pod, """{"metadata":{"finalizers":["b","c"]},"spec":{"containers":[{"name":"c","args":["z"]}]}}""", Pod);
        Equal("""["a","b","c"]""", result["metadata"]!["finalizers"]);
        Equal("""["z"]""", Containers(result)[0]!["args"]);
    }

    [Fact]
    public void Apply_KubectlApplyFinalizerChange_UsesOrderAndDeletionLists()
    {
        var pod = """{"metadata":{"finalizers":["a","b"]}}""";
        var patch = """{"metadata":{"$setElementOrder/finalizers":["c","a"],"$deleteFromPrimitiveList/finalizers":["b"],"finalizers":["c"]}}""";
        Equal("""["c","a"]""", Smp(pod, patch, Pod)["metadata"]!["finalizers"]);
    }

    [Fact]
    public void Apply_NullMember_DeletesTheKeyAndIsIgnoredWhenAbsent() =>
        Equal("""{"metadata":{"labels":{"app":"web"}}}""",
            Smp("""{"metadata":{"labels":{"app":"web","tier":"front"}}}""", """{"metadata":{"labels":{"tier":null,"never":null}}}""", Pod));

    [Fact]
    public void Apply_KubectlCordonAndUncordonPatches_SetAndClearUnschedulable()
    {
        var node = PatchSchema.For("", "Node");
        var cordoned = Smp("""{"metadata":{"name":"node-1"},"spec":{"podCIDR":"10.42.0.0/24","podCIDRs":["10.42.0.0/24"]}}""", """{"spec":{"unschedulable":true}}""", node);
        Equal("""{"metadata":{"name":"node-1"},"spec":{"podCIDR":"10.42.0.0/24","podCIDRs":["10.42.0.0/24"],"unschedulable":true}}""", cordoned);
        var uncordoned = StrategicMergePatch.Apply(cordoned, Object("""{"spec":{"unschedulable":null}}"""), node);
        Equal("""{"metadata":{"name":"node-1"},"spec":{"podCIDR":"10.42.0.0/24","podCIDRs":["10.42.0.0/24"]}}""", uncordoned);
    }

    [Fact]
    public void Apply_KubectlRolloutRestartPatch_AddsTheTemplateAnnotationOnly()
    {
        var deployment = """
            {"spec":{"template":{"metadata":{"labels":{"app":"web"},"annotations":{"prometheus.io/scrape":"true"}},
                                 "spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}
            """;
        var result = Smp(deployment, """{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2025-06-01T10:00:00Z"}}}}}""", Deployment);
        Equal("""
            {"spec":{"template":{"metadata":{"labels":{"app":"web"},"annotations":{"prometheus.io/scrape":"true","kubectl.kubernetes.io/restartedAt":"2025-06-01T10:00:00Z"}},
                                 "spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}
            """, result);
    }

    [Fact]
    public void Apply_KubectlSetImagePatchOnACronJob_ReachesTheJobTemplatesContainers()
    {
        var cronJob = """{"spec":{"schedule":"* * * * *","jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"x:1","command":["run"]},{"name":"b","image":"y:1"}]}}}}}}""";
        var result = Smp(cronJob, """{"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"a","image":"x:2"}]}}}}}}""", PatchSchema.For("batch", "CronJob"));
        Equal("""[{"name":"a","image":"x:2","command":["run"]},{"name":"b","image":"y:1"}]""", result["spec"]!["jobTemplate"]!["spec"]!["template"]!["spec"]!["containers"]);
    }

    [Fact]
    public void Apply_UntaggedListsOfMaps_AreReplacedWhole()
    {
        var pod = """{"spec":{"containers":[],"tolerations":[{"key":"a","operator":"Exists"},{"key":"b","operator":"Exists"}]}}""";
        Equal("""[{"key":"c","operator":"Exists"}]""", Smp(pod, """{"spec":{"tolerations":[{"key":"c","operator":"Exists"}]}}""", Pod)["spec"]!["tolerations"]);
    }

    [Fact]
    public void Apply_ServicePorts_MergeByPortNumber()
    {
        var service = """{"spec":{"ports":[{"name":"http","port":80,"targetPort":8080},{"name":"https","port":443}],"selector":{"app":"web"}}}""";
        var result = Smp(service, """{"spec":{"ports":[{"port":80,"targetPort":9090}]}}""", PatchSchema.For("", "Service"));
        Equal("""[{"name":"http","port":80,"targetPort":9090},{"name":"https","port":443}]""", result["spec"]!["ports"]);
    }

    [Fact]
    public void Apply_NodeStatusPatch_MergesConditionsAndAddressesByType()
    {
        var node = """
            {"status":{"conditions":[{"type":"Ready","status":"False","reason":"KubeletNotReady"},{"type":"MemoryPressure","status":"False"}],
                       "addresses":[{"type":"InternalIP","address":"10.0.0.5"},{"type":"Hostname","address":"node-1"}]}}
            """;
        var patch = """{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}],"addresses":[{"type":"Hostname","address":"node-1.lan"}]}}""";
        var result = Smp(node, patch, PatchSchema.For("", "Node"));
        Equal("""[{"type":"Ready","status":"True","reason":"KubeletReady"},{"type":"MemoryPressure","status":"False"}]""", result["status"]!["conditions"]);
        Equal("""[{"type":"InternalIP","address":"10.0.0.5"},{"type":"Hostname","address":"node-1.lan"}]""", result["status"]!["addresses"]);
    }

    [Fact]
    public void Apply_OwnerReferences_MergeByUid()
    {
        var rs = """{"metadata":{"ownerReferences":[{"uid":"1","name":"a","controller":true},{"uid":"2","name":"b"}]}}""";
        var result = Smp(rs, """{"metadata":{"ownerReferences":[{"uid":"1","controller":false}]}}""", PatchSchema.For("apps", "ReplicaSet"));
        Equal("""[{"uid":"1","name":"a","controller":false},{"uid":"2","name":"b"}]""", result["metadata"]!["ownerReferences"]);
    }

    [Fact]
    public void Apply_ReplaceStrategyMap_IsReplacedWhole()
    {
        var pdb = """{"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"web"},"matchExpressions":[{"key":"x","operator":"Exists"}]}}}""";
        var result = Smp(pdb, """{"spec":{"selector":{"matchLabels":{"app":"db"}}}}""", PatchSchema.For("policy", "PodDisruptionBudget"));
        Equal("""{"spec":{"minAvailable":1,"selector":{"matchLabels":{"app":"db"}}}}""", result);
    }

    [Fact]
    public void Apply_NewSubtreeFullOfDirectives_LandsWithoutAnyDollarNames()
    {
        var patch = """
            {"spec":{"$unknown":1,
                     "initContainers":[{"name":"init","$setElementOrder/env":[{"name":"X"}],"env":[{"name":"X","value":"1"},{"name":"Y","$patch":"delete"}]}],
                     "volumes":[{"$retainKeys":["name","emptyDir"],"name":"v","emptyDir":{"medium":null}}],
                     "affinity":{"$patch":"replace","nodeAffinity":{}},
                     "dnsConfig":{"$patch":"delete","options":[]}}}
            """;
        var result = Smp("""{"spec":{"containers":[]}}""", patch, Pod);
        Equal("""
            {"spec":{"containers":[],
                     "initContainers":[{"name":"init","env":[{"name":"X","value":"1"}]}],
                     "volumes":[{"name":"v","emptyDir":{}}],
                     "affinity":{"nodeAffinity":{}}}}
            """, result);
    }

    [Fact]
    public void Apply_RootDirectives_ReplaceOrEmptyTheWholeObject()
    {
        Equal("""{"kind":"Pod"}""", Smp("""{"kind":"Pod","spec":{}}""", """{"$patch":"replace","kind":"Pod"}""", Pod));
        Equal("{}", Smp("""{"kind":"Pod","spec":{}}""", """{"$patch":"delete"}""", Pod));
    }

    [Fact]
    public void Apply_DuplicateKeysInThePatch_MergeIntoOneItem() =>
        Equal("""[{"name":"a","image":"x","imagePullPolicy":"Always"}]""",
            Containers(Smp("""{"spec":{"containers":[]}}""", """{"spec":{"containers":[{"name":"a","image":"x"},{"name":"a","imagePullPolicy":"Always"}]}}""", Pod)));

    [Fact]
    public void Apply_KindsNotInTheTable_ReplaceListsButStillMergeFinalizers()
    {
        var configMap = PatchSchema.For("", "ConfigMap");
        var result = Smp("""{"metadata":{"finalizers":["a"]},"data":{"k":"v"},"list":[1,2]}""", """{"metadata":{"finalizers":["b"]},"data":{"k2":"v2"},"list":[3]}""", configMap);
        Equal("""{"metadata":{"finalizers":["b","a"]},"data":{"k":"v","k2":"v2"},"list":[3]}""", result);
        Equal("""{"metadata":{"finalizers":["b"]}}""", Smp("""{"metadata":{"finalizers":["a"]}}""", """{"metadata":{"finalizers":["b"]}}""", PatchSchema.For("example.com", "Widget")));
    }

    [Fact]
    public void Apply_Always_LeavesInputsUntouchedAndSharesNoNodes()
    {
        var original = Object(LivePod);
        var patch = Object("""
            {"metadata":{"labels":{"new":"1","app":null},"$deleteFromPrimitiveList/finalizers":["x"]},
             "spec":{"$setElementOrder/containers":[{"name":"side"},{"name":"nginx"}],
                     "containers":[{"name":"side","image":"busybox","env":[{"name":"Q","value":"q"}]},{"name":"nginx","env":[{"name":"A","$patch":"delete"}]}],
                     "volumes":[{"$patch":"replace"},{"name":"other","emptyDir":{}}],"tolerations":[{"key":"k"}]}}
            """);
        var (originalText, patchText) = (original.ToJsonString(), patch.ToJsonString());

        var result = StrategicMergePatch.Apply(original, patch, Pod);
        Assert.Equal(["side", "nginx"], Names(Containers(result)));

        // Change everything reachable in the result; neither input may notice.
        foreach (var node in Descendants(result).OfType<JsonObject>().ToList())
        {
            node["touched"] = true;
        }

        foreach (var node in Descendants(result).OfType<JsonArray>().ToList())
        {
            node.Add("touched");
        }

        Assert.Equal(originalText, original.ToJsonString());
        Assert.Equal(patchText, patch.ToJsonString());
    }

    private static IEnumerable<JsonNode> Descendants(JsonNode node)
    {
        yield return node;
        var children = node switch
        {
            JsonObject o => o.Select(m => m.Value),
            JsonArray a => a,
            _ => [],
        };
        foreach (var child in children.OfType<JsonNode>())
        {
            foreach (var inner in Descendants(child))
            {
                yield return inner;
            }
        }
    }

    /// <summary>Without list metadata and without directives, a strategic merge patch is a JSON merge patch.</summary>
    [Fact]
    public void Apply_WithAnEmptySchemaAndNoDirectives_AgreesWithJsonMergePatch()
    {
        var pairs = JsonGen.Object(3, nullMembers: true).SelectMany(a => JsonGen.Object(3, nullMembers: true).Select(p => (A: a, P: p)));
        Prop.ForAll(pairs.ToArbitrary(), pair =>
                JsonNode.DeepEquals(StrategicMergePatch.Apply(pair.A, pair.P, PatchSchema.Empty), JsonMergePatch.Apply(pair.A, pair.P)))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(300));
    }
}
