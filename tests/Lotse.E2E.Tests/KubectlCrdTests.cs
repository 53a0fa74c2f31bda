using System.Text.RegularExpressions;

namespace Lotse.E2E.Tests;

/// <summary>
/// CustomResourceDefinitions with the real kubectl (1.27 and 1.33): applied and established, objects
/// created, printed with their columns, explained from the schema, refused in kube's words when they
/// break it, scaled, and deleted with their definition; list types (map lists shared by two
/// server-side appliers, duplicates refused, bad list types refused in the definition).
/// </summary>
public sealed class KubectlCrdTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    private static string Definition(string group) => $$"""
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: crontabs.{{group}}}
        spec:
          group: {{group}}
          scope: Namespaced
          names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct], categories: [all]}
          versions:
          - name: v1
            served: true
            storage: true
            subresources:
              status: {}
              scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
            additionalPrinterColumns:
            - {name: Spec, type: string, jsonPath: .spec.cronSpec}
            - {name: Replicas, type: integer, jsonPath: .spec.replicas}
            - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    description: The desired schedule.
                    properties:
                      cronSpec: {type: string, description: The schedule in cron format.}
                      replicas: {type: integer, minimum: 1, maximum: 10, default: 1}
                  status:
                    type: object
                    properties:
                      replicas: {type: integer}
        """;

    private static void Ok((int ExitCode, string Stdout, string Stderr) result) =>
        Assert.True(result.ExitCode == 0, $"kubectl failed ({result.ExitCode}):\n{result.Stderr}\n{result.Stdout}");

    [KubectlTheory]
    [InlineData("1.27")]
    [InlineData("1.33")]
    public async Task Crd_ServesItsKind_ThroughKubectl(string version)
    {
        var kubectl = fixture.Kubectl(version);
        var group = $"v{version.Replace(".", string.Empty, StringComparison.Ordinal)}.example.com";
        var applied = await kubectl.RunWithInputAsync(Definition(group), "apply", "-f", "-");
        Ok(applied);
        Assert.Contains($"customresourcedefinition.apiextensions.k8s.io/crontabs.{group} created", applied.Stdout, StringComparison.Ordinal);
        Ok(await kubectl.RunAsync("wait", "--for", "condition=established", "--timeout=30s", $"crd/crontabs.{group}"));

        var created = await kubectl.RunWithInputAsync($"apiVersion: {group}/v1\nkind: CronTab\nmetadata: {{name: nightly}}\nspec: {{cronSpec: \"* * * * 5\"}}\n", "apply", "-f", "-");
        Ok(created);
        Assert.Contains($"crontab.{group}/nightly created", created.Stdout, StringComparison.Ordinal);
        var listed = await kubectl.RunAsync("get", $"crontabs.{group}");
        Ok(listed);
        Assert.Matches(@"NAME\s+SPEC\s+REPLICAS\s+AGE", listed.Stdout);
        Assert.Matches(@"nightly\s+\* \* \* \* 5\s+1\s+\d+s", listed.Stdout);

        var explained = await kubectl.RunAsync("explain", $"crontabs.{group}.spec.cronSpec");
        Ok(explained);
        Assert.Contains("The schedule in cron format.", explained.Stdout, StringComparison.Ordinal);

        var invalid = await kubectl.RunWithInputAsync($"apiVersion: {group}/v1\nkind: CronTab\nmetadata: {{name: broken}}\nspec: {{cronSpec: x, replicas: 20}}\n", "apply", "-f", "-");
        Assert.NotEqual(0, invalid.ExitCode);
        Assert.Contains($"The CronTab \"broken\" is invalid: spec.replicas: Invalid value: 20: spec.replicas in body should be less than or equal to 10", invalid.Stderr, StringComparison.Ordinal);

        Ok(await kubectl.RunAsync("scale", $"crontabs.{group}/nightly", "--replicas=3"));
        Assert.Equal("3", (await kubectl.RunAsync("get", $"crontabs.{group}", "nightly", "-o", "jsonpath={.spec.replicas}")).Stdout);

        var deleted = await kubectl.RunAsync("delete", "crd", $"crontabs.{group}", "--timeout=30s");
        Ok(deleted);
        var after = await kubectl.RunAsync("get", $"crontabs.{group}");
        Assert.NotEqual(0, after.ExitCode);
        Assert.True(Regex.IsMatch(after.Stderr, "the server doesn't have a resource type|doesn't have a resource type"), after.Stderr);
    }

    [KubectlFact]
    public async Task CrdValidationRule_RefusesABreakingObject_InKubesWords()
    {
        var kubectl = fixture.Kubectl("1.33");
        const string Group = "cel.example.com";
        const string Crd = $$"""
            apiVersion: apiextensions.k8s.io/v1
            kind: CustomResourceDefinition
            metadata: {name: widgets.{{Group}}}
            spec:
              group: {{Group}}
              scope: Namespaced
              names: {plural: widgets, singular: widget, kind: Widget}
              versions:
              - name: v1
                served: true
                storage: true
                schema:
                  openAPIV3Schema:
                    type: object
                    properties:
                      spec:
                        type: object
                        x-kubernetes-validations:
                        - rule: self.replicas <= self.maxReplicas
                          message: replicas must not exceed maxReplicas
                        properties:
                          replicas: {type: integer}
                          maxReplicas: {type: integer}
            """;
        Ok(await kubectl.RunWithInputAsync(Crd, "apply", "-f", "-"));
        Ok(await kubectl.RunAsync("wait", "--for", "condition=established", "--timeout=30s", $"crd/widgets.{Group}"));

        var refused = await kubectl.RunWithInputAsync($"apiVersion: {Group}/v1\nkind: Widget\nmetadata: {{name: big}}\nspec: {{replicas: 5, maxReplicas: 3}}\n", "apply", "-f", "-");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("The Widget \"big\" is invalid: spec: Invalid value: \"object\": replicas must not exceed maxReplicas", refused.Stderr, StringComparison.Ordinal);

        var created = await kubectl.RunWithInputAsync($"apiVersion: {Group}/v1\nkind: Widget\nmetadata: {{name: small}}\nspec: {{replicas: 2, maxReplicas: 3}}\n", "apply", "-f", "-");
        Ok(created);
        Assert.Contains($"widget.{Group}/small created", created.Stdout, StringComparison.Ordinal);

        var broken = await kubectl.RunWithInputAsync(
            Crd.Replace("self.replicas <= self.maxReplicas", "self.replicaz <= self.maxReplicas", StringComparison.Ordinal).Replace(Group, "broken.example.com", StringComparison.Ordinal), "create", "-f", "-");
        Assert.NotEqual(0, broken.ExitCode);
        Assert.Contains("spec.validation.openAPIV3Schema.properties[spec].x-kubernetes-validations[0].rule: Invalid value: apiextensions.ValidationRule{Rule:\"self.replicaz <= self.maxReplicas\"", broken.Stderr, StringComparison.Ordinal);
        Assert.Contains("compilation failed: ERROR: <input>:1:5: undefined field 'replicaz'", broken.Stderr, StringComparison.Ordinal);

        Ok(await kubectl.RunAsync("delete", "crd", $"widgets.{Group}", "--timeout=30s"));
    }

    private static string ListDefinition(string group, string listType = "map") => $$"""
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: gateways.{{group}}}
        spec:
          group: {{group}}
          scope: Namespaced
          names: {plural: gateways, singular: gateway, kind: Gateway}
          versions:
          - name: v1
            served: true
            storage: true
            schema:
              openAPIV3Schema:
                type: object
                properties:
                  spec:
                    type: object
                    properties:
                      routes:
                        type: array
                        x-kubernetes-list-type: {{listType}}
                        x-kubernetes-list-map-keys: [name]
                        items:
                          type: object
                          required: [name]
                          properties:
                            name: {type: string}
                            weight: {type: integer}
        """;

    private static string Gateway(string group, string route, int weight) =>
        $"apiVersion: {group}/v1\nkind: Gateway\nmetadata: {{name: gw}}\nspec:\n  routes: [{{name: {route}, weight: {weight}}}]\n";

    [KubectlTheory]
    [InlineData("1.27")]
    [InlineData("1.33")]
    public async Task MapList_TwoFieldManagersApplyingServerSide_KeepBothItems(string version)
    {
        var kubectl = fixture.Kubectl(version);
        var group = $"lists{version.Replace(".", string.Empty, StringComparison.Ordinal)}.example.com";
        Ok(await kubectl.RunWithInputAsync(ListDefinition(group), "apply", "-f", "-"));
        Ok(await kubectl.RunAsync("wait", "--for", "condition=established", "--timeout=30s", $"crd/gateways.{group}"));

        Ok(await kubectl.RunWithInputAsync(Gateway(group, "a", 1), "apply", "--server-side", "--field-manager=team-a", "-f", "-"));
        Ok(await kubectl.RunWithInputAsync(Gateway(group, "b", 2), "apply", "--server-side", "--field-manager=team-b", "-f", "-"));
        var routes = await kubectl.RunAsync("get", $"gateways.{group}", "gw", "-o", "jsonpath={.spec.routes[*].name}");
        Ok(routes);
        Assert.Equal("a b", routes.Stdout);

        var refused = await kubectl.RunWithInputAsync(Gateway(group, "a", 5), "apply", "--server-side", "--field-manager=team-b", "-f", "-");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Apply failed with 1 conflict: conflict with \"team-a\": .spec.routes[name=\"a\"].weight", refused.Stderr, StringComparison.Ordinal);

        // team-a stops applying its item: only that item goes.
        Ok(await kubectl.RunWithInputAsync($"apiVersion: {group}/v1\nkind: Gateway\nmetadata: {{name: gw}}\nspec: {{routes: []}}\n", "apply", "--server-side", "--field-manager=team-a", "-f", "-"));
        Assert.Equal("b", (await kubectl.RunAsync("get", $"gateways.{group}", "gw", "-o", "jsonpath={.spec.routes[*].name}")).Stdout);

        var duplicate = await kubectl.RunWithInputAsync(
            $"apiVersion: {group}/v1\nkind: Gateway\nmetadata: {{name: dup}}\nspec:\n  routes: [{{name: x}}, {{name: x, weight: 2}}]\n", "create", "-f", "-");
        Assert.NotEqual(0, duplicate.ExitCode);
        Assert.Contains("The Gateway \"dup\" is invalid: spec.routes[1]: Duplicate value: map[string]interface {}{\"name\":\"x\"}", duplicate.Stderr, StringComparison.Ordinal);

        var badDefinition = await kubectl.RunWithInputAsync(ListDefinition("bad" + group, listType: "bag"), "apply", "-f", "-");
        Assert.NotEqual(0, badDefinition.ExitCode);
        Assert.Contains("spec.versions[0].schema.openAPIV3Schema.properties[spec].properties[routes].x-kubernetes-list-type: Unsupported value: \"bag\": supported values: \"atomic\", \"set\", \"map\"", badDefinition.Stderr, StringComparison.Ordinal);
        Ok(await kubectl.RunAsync("delete", "crd", $"gateways.{group}", "--timeout=30s"));
    }
}
