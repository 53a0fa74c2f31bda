namespace Lotse.E2E.Tests;

/// <summary>The API server driven by the real kubectl binaries (issue: API server core).</summary>
public sealed class KubectlCoreTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    private static void Ok((int ExitCode, string Stdout, string Stderr) result)
    {
        Assert.True(result.ExitCode == 0, $"kubectl failed ({result.ExitCode}):\n{result.Stderr}\n{result.Stdout}");
    }

    [KubectlTheory]
    [ClassData(typeof(KubectlVersions))]
    public async Task ExplainKustomizePatchAndEdit_WorkAsAgainstKube(string version)
    {
        var kubectl = fixture.Kubectl(version);
        var explained = await kubectl.RunAsync("explain", "pod.spec.containers");
        Ok(explained);
        Assert.Contains("FIELD: containers <[]Container>", explained.Stdout, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^\s+image\s+<string>", explained.Stdout);
        Assert.Contains("FIELD: replicas <integer>", (await kubectl.RunAsync("explain", "deployment.spec.replicas")).Stdout, StringComparison.Ordinal);

        // Descriptions in kube's words (explain wraps them, so compare with whitespace collapsed): from the
        // v3 documents for the default output, from the gnostic v2 document for plaintext-openapiv2.
        static string Flat(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ");
        Assert.Contains("List of containers belonging to the pod.", Flat(explained.Stdout), StringComparison.Ordinal);
        foreach (var (path, description) in new[]
        {
            ("pod", "Pod is a collection of containers that can run on a host."),
            ("pod.spec.containers.image", "Container image name."),
            ("deployment.spec.strategy", "The deployment strategy to use to replace existing pods with new ones."),
        })
        {
            var text = await kubectl.RunAsync("explain", path);
            Ok(text);
            Assert.Contains(description, Flat(text.Stdout), StringComparison.Ordinal);
        }

        var v2 = await kubectl.RunAsync("explain", "pod.spec.containers", "--output=plaintext-openapiv2");
        Ok(v2);
        Assert.Contains("List of containers belonging to the pod.", Flat(v2.Stdout), StringComparison.Ordinal);
        Assert.Contains("Container image name.", Flat(v2.Stdout), StringComparison.Ordinal);

        // apply -k: kubectl's built-in kustomize; applied twice, the second is "unchanged" without warnings.
        var suffix = version.Replace(".", string.Empty, StringComparison.Ordinal);
        var dir = Directory.CreateTempSubdirectory("lotse-kustomize-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "kustomization.yaml"), $"namePrefix: k{suffix}-\nconfigMapGenerator:\n- name: settings\n  literals: [mode=fast]\nresources: [deploy.yaml]\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "deploy.yaml"), "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n");
            var first = await kubectl.RunAsync("apply", "-k", dir);
            Ok(first);
            Assert.Contains($"deployment.apps/k{suffix}-web created", first.Stdout, StringComparison.Ordinal);
            var second = await kubectl.RunAsync("apply", "-k", dir);
            Ok(second);
            Assert.Contains($"deployment.apps/k{suffix}-web unchanged", second.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("error calculating patch from openapi spec", second.Stderr, StringComparison.Ordinal);
            Assert.Equal(string.Empty, second.Stderr);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }

        var name = $"k{suffix}-web";
        Ok(await kubectl.RunAsync("patch", "deployment", name, "--type=merge", "-p", """{"spec":{"replicas":2}}"""));
        Ok(await kubectl.RunAsync("patch", "deployment", name, "--type=json", "-p", """[{"op":"test","path":"/spec/replicas","value":2},{"op":"replace","path":"/spec/replicas","value":3}]"""));
        Ok(await kubectl.RunAsync("patch", "deployment", name, "-p", """{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:2"}]}}}}"""));
        var failedTest = await kubectl.RunAsync("patch", "deployment", name, "--type=json", "-p", """[{"op":"test","path":"/spec/replicas","value":9}]""");
        Assert.NotEqual(0, failedTest.ExitCode);

        // edit with an EDITOR script, as a user's editor would save the file.
        var editor = Path.Combine(fixture.Server.DataDir, $"editor-{suffix}.sh");
        await File.WriteAllTextAsync(editor, "#!/bin/sh\nsed -i 's/replicas: 3/replicas: 4/' \"$1\"\n");
        File.SetUnixFileMode(editor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var edited = await kubectl.RunWithEnvironmentAsync(new Dictionary<string, string> { ["EDITOR"] = editor }, "edit", "deployment", name);
        Ok(edited);
        Assert.Contains($"deployment.apps/{name} edited", edited.Stdout, StringComparison.Ordinal);
        Assert.Equal("4 nginx:2", (await kubectl.RunAsync("get", "deployment", name, "-o", "jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}")).Stdout);
    }

    [KubectlTheory]
    [ClassData(typeof(KubectlVersions))]
    public async Task UnknownFields_AreRefusedByDefault_AndWarnedWhenAsked(string version)
    {
        var name = $"typo-{version.Replace(".", string.Empty, StringComparison.Ordinal)}";
        var manifest = $$$"""
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: {{{name}}}
              lables: {app: x}
            data: {k: v}
            """;
        var kubectl = fixture.Kubectl(version);

        // kubectl's default --validate=strict asks the server (fieldValidation=Strict), as against kube.
        var refused = await kubectl.RunWithInputAsync(manifest, "apply", "-f", "-");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("strict decoding error: unknown field \"metadata.lables\"", refused.Stderr, StringComparison.Ordinal);
        Assert.NotEqual(0, (await kubectl.RunAsync("get", "configmap", name)).ExitCode);

        var warned = await kubectl.RunWithInputAsync(manifest, "apply", "--validate=warn", "-f", "-");
        Ok(warned);
        Assert.Contains("Warning: unknown field \"metadata.lables\"", warned.Stderr, StringComparison.Ordinal);
        Assert.Contains($"configmap/{name} created", warned.Stdout, StringComparison.Ordinal);
    }

    [KubectlTheory]
    [ClassData(typeof(KubectlVersions))]
    public async Task Version_ShowsTheServerVersion(string version)
    {
        var result = await fixture.Kubectl(version).RunAsync("version");
        Ok(result);
        // 1.28+ print "Server Version: v1.33.0+lotse"; 1.27 prints the whole version.Info.
        Assert.Matches(@"Server Version: (v1\.33\.0\+lotse|version\.Info\{Major:""1"", Minor:""33"".*GitVersion:""v1\.33\.0\+lotse"")", result.Stdout);
    }

    [KubectlTheory]
    [ClassData(typeof(KubectlVersions))]
    public async Task GetNamespaces_ShowsTheSystemNamespacesAsATable(string version)
    {
        var result = await fixture.Kubectl(version).RunAsync("get", "namespaces");
        Ok(result);
        var lines = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^NAME\s+STATUS\s+AGE$", lines[0]);
        foreach (var ns in new[] { "default", "kube-system", "kube-public", "kube-node-lease" })
        {
            Assert.Contains(lines, l => System.Text.RegularExpressions.Regex.IsMatch(l, $@"^{ns}\s+Active\s+\d+[smhd]"));
        }
    }

    [KubectlTheory]
    [ClassData(typeof(KubectlVersions))]
    public async Task ApiResources_ListsCoreAndAppsResources(string version)
    {
        var result = await fixture.Kubectl(version).RunAsync("api-resources");
        Ok(result);
        Assert.Matches(@"(?m)^pods\s+po\s+v1\s+true\s+Pod$", result.Stdout);
        Assert.Matches(@"(?m)^deployments\s+deploy\s+apps/v1\s+true\s+Deployment$", result.Stdout);
    }

    [KubectlTheory]
    [InlineData("1.27")]
    [InlineData("1.29")]
    [InlineData("1.31")]
    public async Task CreateConfigMapAndSecret_ThenGetAndDelete(string version)
    {
        var kubectl = fixture.Kubectl(version);
        var suffix = version.Replace(".", string.Empty, StringComparison.Ordinal);
        Ok(await kubectl.RunAsync("create", "namespace", $"ns{suffix}"));
        var cm = await kubectl.RunAsync("create", "configmap", "settings", "-n", $"ns{suffix}", "--from-literal=color=blue");
        Ok(cm);
        Assert.Equal("configmap/settings created", cm.Stdout.Trim());
        Ok(await kubectl.RunAsync("create", "secret", "generic", "pw", "-n", $"ns{suffix}", "--from-literal=password=hunter2"));
        var json = await kubectl.RunAsync("get", "configmap", "settings", "-n", $"ns{suffix}", "-o", "jsonpath={.data.color}");
        Ok(json);
        Assert.Equal("blue", json.Stdout);
        var secret = await kubectl.RunAsync("get", "secret", "pw", "-n", $"ns{suffix}", "-o", "jsonpath={.data.password}");
        Assert.Equal(Convert.ToBase64String("hunter2"u8.ToArray()), secret.Stdout);
        var deleted = await kubectl.RunAsync("delete", "configmap", "settings", "-n", $"ns{suffix}");
        Ok(deleted);
        Assert.Equal("configmap \"settings\" deleted", deleted.Stdout.Trim());
    }

    [KubectlFact]
    public async Task Get_MissingObject_PrintsKubernetesError()
    {
        var result = await fixture.Kubectl().RunAsync("get", "pod", "nope");
        Assert.NotEqual(0, result.ExitCode);
        Assert.Equal("Error from server (NotFound): pods \"nope\" not found", result.Stderr.Trim());
    }

    [KubectlFact]
    public async Task RunDryRunThenApply_CreatesThePod()
    {
        var kubectl = fixture.Kubectl();
        var yaml = await kubectl.RunAsync("run", "nginx", "--image=nginx", "--dry-run=client", "-o", "yaml");
        Ok(yaml);
        var file = Path.Combine(fixture.Server.DataDir, "pod.yaml");
        await File.WriteAllTextAsync(file, yaml.Stdout);
        var applied = await kubectl.RunAsync("apply", "-f", file);
        Ok(applied);
        Assert.Equal("pod/nginx created", applied.Stdout.Trim());
        var wide = await kubectl.RunAsync("get", "pods", "-o", "wide");
        Ok(wide);
        Assert.Matches(@"(?m)^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE\s+NOMINATED NODE\s+READINESS GATES$", wide.Stdout);
        Assert.Matches(@"(?m)^nginx\s+0/1\s+Pending\s+0\s+", wide.Stdout);
        var deleted = await kubectl.RunAsync("delete", "-f", file);
        Ok(deleted);
        Assert.Equal("pod \"nginx\" deleted", deleted.Stdout.Trim());
    }

    [KubectlFact]
    public async Task LabelAnnotateAndSelect()
    {
        var kubectl = fixture.Kubectl();
        var creator = fixture.Kubectl("1.31"); // 1.32+ send protobuf bodies for create (the API fidelity issue)
        Ok(await creator.RunAsync("create", "namespace", "labels"));
        Ok(await creator.RunAsync("create", "configmap", "a", "-n", "labels"));
        Ok(await creator.RunAsync("create", "configmap", "b", "-n", "labels"));
        var labelled = await kubectl.RunAsync("label", "configmap", "a", "-n", "labels", "tier=front");
        Ok(labelled);
        Assert.Equal("configmap/a labeled", labelled.Stdout.Trim());
        Ok(await kubectl.RunAsync("annotate", "configmap", "a", "-n", "labels", "note=hello"));
        var selected = await kubectl.RunAsync("get", "configmaps", "-n", "labels", "-l", "tier=front", "-o", "name");
        Ok(selected);
        Assert.Equal("configmap/a", selected.Stdout.Trim());
        var byField = await kubectl.RunAsync("get", "configmaps", "-n", "labels", "--field-selector", "metadata.name=b", "-o", "name");
        Assert.Equal("configmap/b", byField.Stdout.Trim());
        var annotation = await kubectl.RunAsync("get", "configmap", "a", "-n", "labels", "-o", "jsonpath={.metadata.annotations.note}");
        Assert.Equal("hello", annotation.Stdout);
    }

    [KubectlFact]
    public async Task AllNamespaces_ListsTheKubernetesService()
    {
        var result = await fixture.Kubectl().RunAsync("get", "services", "-A");
        Ok(result);
        Assert.Matches(@"(?m)^default\s+kubernetes\s+ClusterIP\s+10\.43\.0\.1\s+<none>\s+443/TCP\s+", result.Stdout);
    }

    [KubectlFact]
    public async Task ClusterInfo_PrintsTheControlPlane()
    {
        var result = await fixture.Kubectl().RunAsync("cluster-info");
        Ok(result);
        Assert.Contains("is running at https://127.0.0.1:", result.Stdout, StringComparison.Ordinal);
    }
}
