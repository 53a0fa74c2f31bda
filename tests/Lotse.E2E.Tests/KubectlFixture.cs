namespace Lotse.E2E.Tests;

/// <summary>One real server for a test class, plus kubectl runners with their own cache dirs.</summary>
public sealed class KubectlFixture : IAsyncLifetime
{
    public LotseServerProcess Server { get; } = new();

    public Task InitializeAsync() => Server.StartAsync();

    public Task DisposeAsync() => Server.DisposeAsync().AsTask();

    public Kubectl Kubectl(string version = "1.33")
    {
        var cache = Path.Combine(Server.DataDir, "kubectl-cache-" + version + "-" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(cache);
        return new Kubectl(E2E.Tests.Kubectl.PathOf(version), Server.Kubeconfig, cache);
    }
}

/// <summary>Skips when the machine has no kubectl binaries (CI's machine has them).</summary>
public sealed class KubectlFactAttribute : FactAttribute
{
    public KubectlFactAttribute()
    {
        if (!File.Exists(Kubectl.PathOf("1.33")))
        {
            Skip = $"kubectl 1.33 is not installed at {Kubectl.Directory}";
        }
    }
}

public sealed class KubectlTheoryAttribute : TheoryAttribute
{
    public KubectlTheoryAttribute()
    {
        if (!File.Exists(Kubectl.PathOf("1.33")))
        {
            Skip = $"kubectl is not installed at {Kubectl.Directory}";
        }
    }
}

/// <summary>Every kubectl version on the machine, as theory data.</summary>
public sealed class KubectlVersions : TheoryData<string>
{
    public KubectlVersions()
    {
        foreach (var v in Kubectl.Versions())
        {
            Add(v);
        }
    }
}
