using System.Diagnostics;

namespace Lotse.E2E.Tests;

/// <summary>Skips where Debian's python3-kubernetes is not installed (scripts/deps.sh installs it; CI has it).</summary>
public sealed class PythonClientFactAttribute : FactAttribute
{
    public PythonClientFactAttribute()
    {
        if (!Directory.Exists("/usr/lib/python3/dist-packages/kubernetes"))
        {
            Skip = "Debian's python3-kubernetes is not installed";
        }
    }
}

/// <summary>The official Python client (Debian's python3-kubernetes) lists and watches through the real server.</summary>
public sealed class PythonClientTests(KubectlFixture fixture) : IClassFixture<KubectlFixture>
{
    /// <summary>Lists namespaces, then watches pods while a thread creates one through the same client.</summary>
    private const string Script = """
        import sys, threading, time
        from kubernetes import client, config, watch
        config.load_kube_config(config_file=sys.argv[1])
        v1 = client.CoreV1Api()
        print("namespaces:", ",".join(sorted(n.metadata.name for n in v1.list_namespace().items)), flush=True)
        def create():
            time.sleep(1)
            pod = client.V1Pod(metadata=client.V1ObjectMeta(name="pywatched"), spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="busybox:1.36")]))
            v1.create_namespaced_pod("default", pod)
        threading.Thread(target=create).start()
        w = watch.Watch()
        for event in w.stream(v1.list_namespaced_pod, "default", timeout_seconds=30):
            print(event["type"], event["object"].metadata.name, event["object"].spec.containers[0].image, flush=True)
            if event["object"].metadata.name == "pywatched":
                w.stop()
        print("listed:", ",".join(p.metadata.name for p in v1.list_namespaced_pod("default").items), flush=True)
        """;

    [PythonClientFact]
    public async Task ListsCreatesAndWatches()
    {
        var info = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        info.ArgumentList.Add("-");
        info.ArgumentList.Add(fixture.Server.Kubeconfig);
        using var python = Process.Start(info)!;
        await python.StandardInput.WriteAsync(Script);
        python.StandardInput.Close();
        var stdout = python.StandardOutput.ReadToEndAsync();
        var stderr = python.StandardError.ReadToEndAsync();
        try
        {
            await python.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        finally
        {
            if (!python.HasExited)
            {
                python.Kill();
            }
        }

        var output = await stdout;
        Assert.True(python.ExitCode == 0, $"{output}\n{await stderr}");
        Assert.Contains("namespaces: default,kube-node-lease,kube-public,kube-system", output, StringComparison.Ordinal);
        Assert.Contains("ADDED pywatched busybox:1.36", output, StringComparison.Ordinal);
        Assert.Contains("listed: pywatched", output, StringComparison.Ordinal);
    }
}
