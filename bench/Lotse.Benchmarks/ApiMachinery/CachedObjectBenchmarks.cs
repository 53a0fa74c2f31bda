using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using BenchmarkDotNet.Attributes;
using Lotse.ApiServer;
using Lotse.ApiServer.Selectors;
using Lotse.ApiServer.WatchCache;

namespace Lotse.Benchmarks.ApiMachinery;

/// <summary>
/// What every write costs the watch cache: stamping a stored object with its resourceVersion by
/// splicing bytes, beside the parse + re-serialize it replaced; and label selector matching.
/// Run: <c>dotnet run -c Release --project bench/Lotse.Benchmarks -- --filter '*CachedObject*'</c>.
/// </summary>
[MemoryDiagnoser]
public class CachedObjectBenchmarks
{
    private readonly byte[] _stored = Encoding.UTF8.GetBytes("""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-7d9f8b6c5-x2k4p","namespace":"default","uid":"3f1b2c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d","creationTimestamp":"2026-11-24T10:00:00Z","labels":{"app":"web","pod-template-hash":"7d9f8b6c5"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27","ports":[{"containerPort":80,"protocol":"TCP"}],"resources":{},"terminationMessagePath":"/dev/termination-log","terminationMessagePolicy":"File","imagePullPolicy":"IfNotPresent"}],"restartPolicy":"Always","terminationGracePeriodSeconds":30,"dnsPolicy":"ClusterFirst","serviceAccountName":"default","schedulerName":"default-scheduler"},"status":{"phase":"Pending","qosClass":"BestEffort"}}""");
    private readonly LabelSelector _selector = LabelSelector.Parse("app=web,tier notin (db)");
    private readonly Dictionary<string, string> _labels = new() { ["app"] = "web", ["pod-template-hash"] = "7d9f8b6c5" };

    [Benchmark(Baseline = true)]
    public byte[] ParseAndSerialize()
    {
        var obj = (JsonObject)JsonNode.Parse(_stored)!;
        obj["metadata"]!["resourceVersion"] = "12345";
        return JsonSerializer.SerializeToUtf8Bytes(obj, JsonDefaults.Options);
    }

    [Benchmark]
    public byte[] Splice() => CachedObject.FromStored("/registry/pods/default/web", _stored, 12345, 12000).Json;

    [Benchmark]
    public bool MatchLabels() => _selector.Matches(_labels);
}
