using System.Text.Json.Nodes;

namespace Lotse.E2E.Tests;

/// <summary>Everyday kubectl workflows against the real server: deployments, services, nodes, output formats, waiting, errors.</summary>
public sealed class KubectlWorkflowTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    private static void Ok((int ExitCode, string Stdout, string Stderr) result) =>
        Assert.True(result.ExitCode == 0, $"kubectl failed ({result.ExitCode}):\n{result.Stderr}\n{result.Stdout}");

    private async Task<string> WriteAsync(string name, string yaml)
    {
        var path = Path.Combine(fixture.Server.DataDir, name);
        await File.WriteAllTextAsync(path, yaml);
        return path;
    }

    [KubectlFact]
    public async Task Deployment_CreateScaleExposeDescribe()
    {
        var creator = fixture.Kubectl("1.31");
        var kubectl = fixture.Kubectl();
        Ok(await creator.RunAsync("create", "namespace", "wf"));
        var created = await creator.RunAsync("create", "deployment", "web", "-n", "wf", "--image=nginx:1.27", "--replicas=2");
        Ok(created);
        Assert.Equal("deployment.apps/web created", created.Stdout.Trim());

        var scaled = await kubectl.RunAsync("scale", "deployment", "web", "-n", "wf", "--replicas=5");
        Ok(scaled);
        Assert.Equal("deployment.apps/web scaled", scaled.Stdout.Trim());
        var replicas = await kubectl.RunAsync("get", "deployment", "web", "-n", "wf", "-o", "jsonpath={.spec.replicas} {.metadata.generation}");
        Assert.Equal("5 2", replicas.Stdout);

        var exposed = await kubectl.RunAsync("expose", "deployment", "web", "-n", "wf", "--port=80", "--target-port=8080");
        Ok(exposed);
        Assert.Equal("service/web exposed", exposed.Stdout.Trim());
        var svc = await kubectl.RunAsync("get", "service", "web", "-n", "wf");
        Ok(svc);
        Assert.Matches(@"(?m)^web\s+ClusterIP\s+10\.43\.\d+\.\d+\s+<none>\s+80/TCP\s+\d+s$", svc.Stdout);

        // The deployment controller brings UP-TO-DATE to 5; without a node agent nothing becomes ready.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        (int ExitCode, string Stdout, string Stderr) deploy;
        while (!System.Text.RegularExpressions.Regex.IsMatch((deploy = await kubectl.RunAsync("get", "deployments", "-n", "wf")).Stdout, @"(?m)^web\s+0/5\s+5\s+0\s+\d+s$"))
        {
            Assert.True(DateTime.UtcNow < deadline, deploy.Stdout);
            await Task.Delay(200);
        }

        Assert.Matches(@"(?m)^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$", deploy.Stdout);

        var describe = await kubectl.RunAsync("describe", "deployment", "web", "-n", "wf");
        Ok(describe);
        Assert.Contains("Selector:               app=web", describe.Stdout, StringComparison.Ordinal);
        Assert.Contains("StrategyType:           RollingUpdate", describe.Stdout, StringComparison.Ordinal);
        Assert.Contains("Image:         nginx:1.27", describe.Stdout, StringComparison.Ordinal);
    }

    [KubectlFact]
    public async Task Node_CordonUncordon_ShowsSchedulingDisabled()
    {
        var kubectl = fixture.Kubectl();
        var node = await WriteAsync("node.yaml", """
            apiVersion: v1
            kind: Node
            metadata:
              name: worker-1
              labels:
                node-role.kubernetes.io/worker: "true"
            """);
        Ok(await kubectl.RunAsync("create", "-f", node));
        var cordoned = await kubectl.RunAsync("cordon", "worker-1");
        Ok(cordoned);
        Assert.Equal("node/worker-1 cordoned", cordoned.Stdout.Trim());
        var nodes = await kubectl.RunAsync("get", "nodes");
        Assert.Matches(@"(?m)^worker-1\s+Unknown,SchedulingDisabled\s+worker\s+\d+s\s*$", nodes.Stdout);
        Ok(await kubectl.RunAsync("uncordon", "worker-1"));
        var unschedulable = await kubectl.RunAsync("get", "node", "worker-1", "-o", "jsonpath={.spec.unschedulable}");
        Assert.Equal(string.Empty, unschedulable.Stdout);
    }

    [KubectlFact]
    public async Task OutputFormats_YamlJsonNameAndWide()
    {
        var kubectl = fixture.Kubectl();
        var pod = await WriteAsync("fmt.yaml", """
            apiVersion: v1
            kind: Pod
            metadata:
              name: fmt
              labels: {app: fmt}
            spec:
              containers:
              - name: c
                image: busybox
            """);
        Ok(await kubectl.RunAsync("apply", "-f", pod));
        var yaml = await kubectl.RunAsync("get", "pod", "fmt", "-o", "yaml");
        Ok(yaml);
        Assert.Contains("kind: Pod", yaml.Stdout, StringComparison.Ordinal);
        Assert.Contains("restartPolicy: Always", yaml.Stdout, StringComparison.Ordinal);
        var json = await kubectl.RunAsync("get", "pods", "-l", "app=fmt", "-o", "json");
        var list = JsonNode.Parse(json.Stdout)!;
        Assert.Equal("List", list["kind"]!.GetValue<string>());
        Assert.Equal("fmt", list["items"]![0]!["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("pod/fmt", (await kubectl.RunAsync("get", "pods", "-l", "app=fmt", "-o", "name")).Stdout.Trim());
        var byPhase = await kubectl.RunAsync("get", "pods", "--field-selector", "status.phase=Pending", "-o", "name");
        Assert.Contains("pod/fmt", byPhase.Stdout, StringComparison.Ordinal);
    }

    [KubectlFact]
    public async Task Watch_PrintsNewObjectsAsTheyCome()
    {
        var kubectl = fixture.Kubectl();
        var creator = fixture.Kubectl("1.31");
        Ok(await creator.RunAsync("create", "namespace", "watched"));
        var watching = kubectl.RunForAsync(TimeSpan.FromSeconds(6), "get", "configmaps", "-n", "watched", "-w");
        await Task.Delay(TimeSpan.FromSeconds(2));
        Ok(await creator.RunAsync("create", "configmap", "late", "-n", "watched", "--from-literal=a=b"));
        var (_, stdout, _) = await watching;
        Assert.Matches(@"(?m)^late\s+1\s+\d+s$", stdout);
    }

    [KubectlFact]
    public async Task Errors_AlreadyExistsInvalidAndConflictReadLikeKubernetes()
    {
        var kubectl = fixture.Kubectl();
        var cm = await WriteAsync("dup.yaml", """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: dup
            data: {a: "1"}
            """);
        Ok(await kubectl.RunAsync("create", "-f", cm));
        var again = await kubectl.RunAsync("create", "-f", cm);
        Assert.Equal($"Error from server (AlreadyExists): error when creating \"{cm}\": configmaps \"dup\" already exists", again.Stderr.Trim());

        var bad = await WriteAsync("bad.yaml", """
            apiVersion: v1
            kind: Pod
            metadata:
              name: Bad_Name
            spec:
              containers:
              - name: c
            """);
        var invalid = await kubectl.RunAsync("create", "-f", bad);
        Assert.NotEqual(0, invalid.ExitCode);
        Assert.StartsWith($"The Pod \"Bad_Name\" is invalid: ", invalid.Stderr.Trim(), StringComparison.Ordinal);
        Assert.Contains("spec.containers[0].image: Required value", invalid.Stderr, StringComparison.Ordinal);

        var current = JsonNode.Parse((await kubectl.RunAsync("get", "configmap", "dup", "-o", "json")).Stdout)!;
        current["data"]!["a"] = "2";
        var stale = current.DeepClone();
        var file = await WriteAsync("replace.json", current.ToJsonString());
        Ok(await kubectl.RunAsync("replace", "-f", file));
        var staleFile = await WriteAsync("stale.json", stale.ToJsonString());
        var conflict = await kubectl.RunAsync("replace", "-f", staleFile);
        Assert.Contains("Error from server (Conflict): error when replacing", conflict.Stderr, StringComparison.Ordinal);
        Assert.Contains("Operation cannot be fulfilled on configmaps \"dup\": the object has been modified", conflict.Stderr, StringComparison.Ordinal);
    }

    [KubectlFact]
    public async Task Delete_WaitsUntilThePodIsGone()
    {
        var kubectl = fixture.Kubectl();
        var pod = await WriteAsync("gone.yaml", """
            apiVersion: v1
            kind: Pod
            metadata:
              name: gone
            spec:
              nodeSelector:
                fits: nowhere # stays unscheduled, so no node agent has to confirm the delete
              containers:
              - name: c
                image: busybox
            """);
        Ok(await kubectl.RunAsync("apply", "-f", pod));
        var deleted = await kubectl.RunAsync("delete", "pod", "gone", "--timeout=20s");
        Ok(deleted);
        Assert.Equal("pod \"gone\" deleted", deleted.Stdout.Trim());
        var get = await kubectl.RunAsync("get", "pod", "gone");
        Assert.Equal("Error from server (NotFound): pods \"gone\" not found", get.Stderr.Trim());
    }
}
