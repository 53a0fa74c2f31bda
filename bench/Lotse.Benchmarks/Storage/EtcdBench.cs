namespace Lotse.Benchmarks.Storage;

/// <summary>The etcd half of the store benchmark (a real etcd started for the run, plus raw gRPC baselines).</summary>
internal static class EtcdBench
{
    public static Task RunAsync(int operations, List<string[]> rows)
    {
        _ = operations;
        rows.Add(["etcd", "(not built yet)", "", "", "", "", ""]);
        return Task.CompletedTask;
    }
}
