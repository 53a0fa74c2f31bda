using System.Text.Json;

namespace Lotse.E2E.Tests;

/// <summary>Pod volumes on the real node agent: contents seen by the container, updates, FailedMount, projected tokens.</summary>
public sealed partial class NodeAgentTests
{
    private async Task<string> LogsUntilAsync(string pod, string text)
    {
        var deadline = DateTime.UtcNow + Timeout;
        var logs = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            (_, logs, _) = await _kubectl.RunAsync("logs", pod, "--tail", "40");
            if (logs.Contains(text, StringComparison.Ordinal))
            {
                return logs;
            }

            await Task.Delay(500);
        }

        Assert.Fail($"the log of {pod} never showed \"{text}\":\n{logs}\n{await DescribeAsync(pod)}");
        return logs;
    }

    [NodeAgentFact]
    public async Task Volumes_ConfigMapSecretEmptyDirDownwardApi_AreReadableAndFollowUpdates()
    {
        await ApplyAsync("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: vol-cm}
            data: {greeting: hello-from-cm, other: ignored}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: vol-secret}
            stringData: {password: s3cret-from-secret}
            """, "configmap/vol-cm created");
        const string Mounts = """
                volumeMounts:
                - {name: cm, mountPath: /etc/cm}
                - {name: secret, mountPath: /etc/secret, readOnly: true}
                - {name: scratch, mountPath: /scratch}
                - {name: info, mountPath: /etc/info}
                - {name: mem, mountPath: /mem}
            """;
        const string Volumes = """
              volumes:
              - name: cm
                configMap: {name: vol-cm, items: [{key: greeting, path: greet.txt}]}
              - name: secret
                secret: {secretName: vol-secret, defaultMode: 0400}
              - name: scratch
                emptyDir: {}
              - name: mem
                emptyDir: {medium: Memory}
              - name: info
                downwardAPI:
                  items:
                  - {path: name, fieldRef: {fieldPath: metadata.name}}
                  - {path: labels, fieldRef: {fieldPath: metadata.labels}}
            """;
        const string Script = "echo written > /scratch/f; while true; do echo \"cm=$(cat /etc/cm/greet.txt) secret=$(cat /etc/secret/password) scratch=$(cat /scratch/f) name=$(cat /etc/info/name) labels=$(cat /etc/info/labels) other=$(ls /etc/cm)\"; "
            + "stat -c 'mode=%a' /etc/secret/..data/password; head -1 /etc/hosts; grep ' /mem ' /proc/mounts | cut -d' ' -f3 | sed 's/^/mem-fs=/'; touch /etc/cm/x 2>/dev/null || echo cm-read-only; sleep 1; done";
        var manifest = Pod("vols", Script, extraContainer: Mounts).Replace("  containers:", Volumes + "\n  containers:", StringComparison.Ordinal)
            .Replace("  name: vols\n", "  name: vols\n  labels: {app: vols}\n", StringComparison.Ordinal);
        await ApplyAsync(manifest, "pod/vols created");
        var logs = await LogsUntilAsync("vols", "cm=hello-from-cm");
        Assert.Contains("cm=hello-from-cm secret=s3cret-from-secret scratch=written name=vols labels=app=\"vols\" other=greet.txt", logs, StringComparison.Ordinal);
        Assert.Contains("mode=400", logs, StringComparison.Ordinal);
        Assert.Contains("# Kubernetes-managed hosts file.", logs, StringComparison.Ordinal);
        Assert.Contains("cm-read-only", logs, StringComparison.Ordinal);
        Assert.Contains("mem-fs=tmpfs", logs, StringComparison.Ordinal);

        // An update of the ConfigMap reaches the running container (periodic resync, atomic swap).
        var (exit, _, error) = await _kubectl.RunAsync("patch", "configmap", "vol-cm", "-p", "{\"data\":{\"greeting\":\"updated-cm\"}}");
        Assert.True(exit == 0, error);
        await LogsUntilAsync("vols", "cm=updated-cm");

        var pod = await GetAsync("pod", "vols");
        var uid = pod.GetProperty("metadata").GetProperty("uid").GetString()!;
        var podDir = Path.Combine(fixture.Server.DataDir, "agent", "pods", uid);
        Assert.True(Directory.Exists(Path.Combine(podDir, "volumes", "kubernetes.io~configmap", "cm")), podDir);
        await _kubectl.RunAsync("delete", "pod", "vols");
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Directory.Exists(podDir) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(250);
        }

        Assert.False(Directory.Exists(podDir), "the pod's volume directory stays after its deletion");
        Assert.DoesNotContain(podDir, await File.ReadAllTextAsync("/proc/self/mountinfo"), StringComparison.Ordinal);
        await _kubectl.RunAsync("delete", "configmap", "vol-cm");
        await _kubectl.RunAsync("delete", "secret", "vol-secret");
    }

    [NodeAgentFact]
    public async Task Volumes_MissingConfigMap_FailedMountUntilItIsCreated()
    {
        const string Volumes = """
              volumes:
              - name: late
                configMap: {name: late-cm}
            """;
        var manifest = Pod("waiter", "cat /etc/late/key; echo; exec sleep 3600", extraContainer: "    volumeMounts: [{name: late, mountPath: /etc/late}]")
            .Replace("  containers:", Volumes + "\n  containers:", StringComparison.Ordinal);
        await ApplyAsync(manifest, "pod/waiter created");
        await EventAsync("waiter", "MountVolume.SetUp failed for volume \"late\" : configmap \"late-cm\" not found");
        var pending = await GetAsync("pod", "waiter");
        Assert.Equal("Pending", pending.GetProperty("status").GetProperty("phase").GetString());
        Assert.Equal("ContainerCreating", Waiting(pending));

        await ApplyAsync("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: late-cm}
            data: {key: arrived}
            """, "configmap/late-cm created");
        await WaitForAsync("pod", "waiter", p => p.GetProperty("status").GetProperty("phase").GetString() == "Running");
        await LogsUntilAsync("waiter", "arrived");
        await _kubectl.RunAsync("delete", "pod", "waiter", "--wait=false");
        await _kubectl.RunAsync("delete", "configmap", "late-cm");
    }

    [NodeAgentFact]
    public async Task Volumes_ProjectedServiceAccountToken_IsAcceptedByTokenReview()
    {
        const string Volumes = """
              volumes:
              - name: token
                projected:
                  sources:
                  - serviceAccountToken: {path: token, audience: lotse-e2e, expirationSeconds: 3600}
            """;
        var manifest = Pod("tokened", "cat /var/run/tok/token; echo; exec sleep 3600", extraContainer: "    volumeMounts: [{name: token, mountPath: /var/run/tok}]")
            .Replace("  containers:", Volumes + "\n  containers:", StringComparison.Ordinal);
        await ApplyAsync(manifest, "pod/tokened created");
        var logs = await LogsUntilAsync("tokened", "eyJ");
        var token = logs.Trim().Split('\n')[0].Trim();
        Assert.Equal(3, token.Split('.').Length);

        var review = JsonSerializer.Serialize(new
        {
            apiVersion = "authentication.k8s.io/v1",
            kind = "TokenReview",
            spec = new { token, audiences = new[] { "lotse-e2e" } },
        });
        var (exit, output, error) = await _kubectl.RunWithInputAsync(review, "create", "--validate=false", "-f", "-", "-o", "json");
        Assert.True(exit == 0, error);
        var status = JsonDocument.Parse(output).RootElement.GetProperty("status");
        Assert.True(status.GetProperty("authenticated").GetBoolean(), output);
        Assert.Equal("system:serviceaccount:default:default", status.GetProperty("user").GetProperty("username").GetString());
        await _kubectl.RunAsync("delete", "pod", "tokened", "--wait=false");
    }

    [NodeAgentFact]
    public async Task AnEmptyDirOverItsSizeLimit_EvictsThePod()
    {
        const string Volumes = """
              volumes:
              - name: scratch
                emptyDir: {sizeLimit: 1Mi}
            """;
        var manifest = Pod("hoarder", "dd if=/dev/zero of=/scratch/fill bs=1024 count=2048; exec sleep 3600", extraContainer: "    volumeMounts: [{name: scratch, mountPath: /scratch}]")
            .Replace("  containers:", Volumes + "\n  containers:", StringComparison.Ordinal);
        await ApplyAsync(manifest, "pod/hoarder created");
        const string Message = "Usage of EmptyDir volume \"scratch\" exceeds the limit \"1Mi\". ";
        var pod = await WaitForAsync("pod", "hoarder", p => p.GetProperty("status").TryGetProperty("reason", out var reason) && reason.GetString() == "Evicted");
        var status = pod.GetProperty("status");
        Assert.Equal("Failed", status.GetProperty("phase").GetString());
        Assert.Equal(Message, status.GetProperty("message").GetString());
        var target = status.GetProperty("conditions").EnumerateArray().Single(c => c.GetProperty("type").GetString() == "DisruptionTarget");
        Assert.Equal("TerminationByKubelet", target.GetProperty("reason").GetString());
        Assert.Contains(Message.Trim(), (await DescribeAsync("hoarder")), StringComparison.Ordinal); // the Evicted event
        await WaitForAsync("pod", "hoarder", p => p.GetProperty("status").GetProperty("containerStatuses")[0].GetProperty("state").TryGetProperty("terminated", out _));
        await _kubectl.RunAsync("delete", "pod", "hoarder", "--wait=false");
    }

    [NodeAgentFact]
    public async Task EveryPod_GetsItsAccountsTokenCaAndNamespace_AtTheKubernetesPath()
    {
        const string Dir = "/var/run/secrets/kubernetes.io/serviceaccount";
        await ApplyAsync(Pod("automounted", $"cat {Dir}/token; echo; cat {Dir}/namespace; echo; head -1 {Dir}/ca.crt; exec sleep 3600"), "pod/automounted created");
        var lines = (await LogsUntilAsync("automounted", "BEGIN CERTIFICATE")).Trim().Split('\n').Select(l => l.Trim()).ToArray();
        Assert.Equal(3, lines[0].Split('.').Length);
        Assert.Equal("default", lines[1]);
        Assert.Equal("-----BEGIN CERTIFICATE-----", lines[2]);

        var review = JsonSerializer.Serialize(new { apiVersion = "authentication.k8s.io/v1", kind = "TokenReview", spec = new { token = lines[0] } });
        var (exit, output, error) = await _kubectl.RunWithInputAsync(review, "create", "--validate=false", "-f", "-", "-o", "json");
        Assert.True(exit == 0, error);
        var status = JsonDocument.Parse(output).RootElement.GetProperty("status");
        Assert.True(status.GetProperty("authenticated").GetBoolean(), output);
        Assert.Equal("system:serviceaccount:default:default", status.GetProperty("user").GetProperty("username").GetString());
        await _kubectl.RunAsync("delete", "pod", "automounted", "--wait=false");
    }

    [NodeAgentFact]
    public async Task StaticPod_FileBecomesAMirrorPod_RemovedWithTheFile()
    {
        var file = Path.Combine(fixture.ManifestDir, "static-web.yaml");
        await File.WriteAllTextAsync(file, Pod("static-web", "echo static-running; exec sleep 3600").Replace($"  nodeName: {NodeAgentFixture.NodeName}\n", string.Empty, StringComparison.Ordinal));
        var mirrorName = $"static-web-{NodeAgentFixture.NodeName}";
        var deadline = DateTime.UtcNow + Timeout;
        JsonElement mirror = default;
        while (DateTime.UtcNow < deadline)
        {
            var (exit, output, _) = await _kubectl.RunAsync("get", "pod", mirrorName, "-o", "json");
            if (exit == 0)
            {
                mirror = JsonDocument.Parse(output).RootElement.Clone();
                break;
            }

            await Task.Delay(500);
        }

        Assert.Equal(JsonValueKind.Object, mirror.ValueKind);
        var annotations = mirror.GetProperty("metadata").GetProperty("annotations");
        Assert.Equal("file", annotations.GetProperty("kubernetes.io/config.source").GetString());
        Assert.Equal(annotations.GetProperty("kubernetes.io/config.hash").GetString(), annotations.GetProperty("kubernetes.io/config.mirror").GetString());
        var owner = mirror.GetProperty("metadata").GetProperty("ownerReferences")[0];
        Assert.Equal("Node", owner.GetProperty("kind").GetString());
        Assert.Equal(NodeAgentFixture.NodeName, owner.GetProperty("name").GetString());
        await WaitForAsync("pod", mirrorName, p => p.GetProperty("status").GetProperty("phase").GetString() == "Running");
        await LogsUntilAsync(mirrorName, "static-running");

        File.Delete(file);
        deadline = DateTime.UtcNow + Timeout;
        while (DateTime.UtcNow < deadline)
        {
            var (exit, _, _) = await _kubectl.RunAsync("get", "pod", mirrorName);
            if (exit != 0)
            {
                return;
            }

            await Task.Delay(500);
        }

        Assert.Fail($"mirror pod {mirrorName} stays after its file was removed");
    }

    [NodeAgentFact]
    public async Task LocalPathClaims_AreProvisionedOnTheNode_AndOutliveTheirPods()
    {
        const string Claim = """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: notes}
            spec:
              accessModes: [ReadWriteOnce]
              resources: {requests: {storage: 64Mi}}
            """;
        await ApplyAsync(Claim, "persistentvolumeclaim/notes created");
        static string User(string name, string command) => $$"""
            apiVersion: v1
            kind: Pod
            metadata: {name: {{name}}}
            spec:
              restartPolicy: Never
              terminationGracePeriodSeconds: 2
              containers:
              - name: main
                image: {{NodeAgentFixture.Busybox}}
                command: ["sh", "-c", {{JsonSerializer.Serialize(command)}}]
                volumeMounts: [{name: data, mountPath: /data}]
              volumes: [{name: data, persistentVolumeClaim: {claimName: notes} }]
            """;

        // The first pod is scheduled, the claim provisioned on its node, and what it writes lands there.
        await ApplyAsync(User("writer", "echo kept-across-pods > /data/note && echo written"), "pod/writer created");
        await WaitForAsync("pod", "writer", p => p.GetProperty("status").GetProperty("phase").GetString() == "Succeeded");
        var claim = await GetAsync("pvc", "notes");
        Assert.Equal("Bound", claim.GetProperty("status").GetProperty("phase").GetString());
        var uid = claim.GetProperty("metadata").GetProperty("uid").GetString();
        var onHost = Path.Combine(fixture.Server.DataDir, "storage", $"pvc-{uid}_default_notes", "note");
        Assert.Equal("kept-across-pods", (await File.ReadAllTextAsync(onHost)).Trim());

        // A second pod reads it back.
        Assert.Equal(0, (await _kubectl.RunAsync("delete", "pod", "writer")).ExitCode);
        await ApplyAsync(User("reader", "cat /data/note"), "pod/reader created");
        await LogsUntilAsync("reader", "kept-across-pods");
        Assert.Equal(0, (await _kubectl.RunAsync("delete", "pod", "reader")).ExitCode);
        Assert.Equal(0, (await _kubectl.RunAsync("delete", "pvc", "notes")).ExitCode);

        // The claim is gone: the agent removes the directory, then the volume goes (K3s' local-path delete).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await _kubectl.RunAsync("get", "pv", $"pvc-{uid}")).ExitCode == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the volume stays after its claim was deleted");
            await Task.Delay(250);
        }

        Assert.False(Directory.Exists(Path.GetDirectoryName(onHost)), "the volume's directory is removed");
    }
}
