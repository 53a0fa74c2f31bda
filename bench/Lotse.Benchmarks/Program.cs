using BenchmarkDotNet.Running;
using Lotse.Benchmarks.Storage;

// `-- agent [sequential] [parallel]` runs the node agent benchmark (root, containerd: pod create → Running beside raw CRI).
// `-- scheduler [nodes,...] [pods]` runs the scheduler throughput benchmark.
// `-- controllers [nodes] [replicas] [deployments]` runs Deployments to available and through a rolling update on hollow nodes.
// `-- api` runs the API server benchmark (the whole HTTPS stack with KubernetesClient, beside the store).
// `dotnet run -c Release --project bench/Lotse.Benchmarks -- store [sqlite|etcd|all]` runs the store
// harness (throughput and latency percentiles beside the raw baselines, in one run);
// anything else is handed to BenchmarkDotNet (`-- --filter '*'`).
if (args.Length > 0 && args[0] == "store")
{
    return await StoreHarness.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "api")
{
    return await Lotse.Benchmarks.Api.ApiHarness.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "agent")
{
    return await Lotse.Benchmarks.Agent.AgentHarness.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "controllers")
{
    return await Lotse.Benchmarks.Controllers.ControllersHarness.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "scheduler")
{
    return await Lotse.Benchmarks.Scheduler.SchedulerHarness.RunAsync(args[1..]);
}

BenchmarkSwitcher.FromAssembly(typeof(StoreHarness).Assembly).Run(args);
return 0;
