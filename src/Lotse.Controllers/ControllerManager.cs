using Lotse.Client.Informers;
using Lotse.Controllers.Namespace;
using Lotse.Controllers.ReplicaSet;
using Lotse.Controllers.ServiceAccount;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers;

/// <summary>
/// The controller manager: every control loop over one set of shared informers, as a client of the
/// API server like any other. (Leader election is the composition root's: see Lotse.Server's ControlLoops.)
/// </summary>
public sealed class ControllerManager : IDisposable
{
    private readonly InformerFactory _informers;
    private readonly List<Runtime.Controller> _controllers;

    /// <param name="informers">Shared informers; the caller runs them (<see cref="InformerFactory.RunAsync"/>) after creating every component that uses them.</param>
    /// <param name="clusterCidr">The pod range nodes get their own /24 of (the server's --cluster-cidr).</param>
    /// <param name="localPath">Where the built-in local-path provisioner puts volumes on nodes; K3s' defaults when null.</param>
    /// <param name="nodeLifecycle">How long nodes may stay silent (the server's --node-monitor-* flags); kube's defaults when null.</param>
    public ControllerManager(InformerFactory informers, string rootCaPem, ILoggerFactory loggerFactory, TimeProvider? time = null, string clusterCidr = "10.42.0.0/16", NodeLifecycle.NodeLifecycleOptions? nodeLifecycle = null, PersistentVolume.LocalPathOptions? localPath = null)
    {
        _informers = informers;
        _controllers =
        [
            new NamespaceController(_informers, loggerFactory, time),
            new ServiceAccountController(_informers, loggerFactory, time),
            new RootCaPublisher.RootCaPublisher(_informers, rootCaPem, loggerFactory, time),
            new ReplicaSetController(_informers, loggerFactory, time),
            new ReplicaSetController(_informers, loggerFactory, time, kind: ReplicatedKind.ReplicationControllers(_informers)),
            new Deployment.DeploymentController(_informers, loggerFactory, time),
            new Job.JobController(_informers, loggerFactory, time),
            new CronJob.CronJobController(_informers, loggerFactory, time),
            new StatefulSet.StatefulSetController(_informers, loggerFactory, time),
            new DaemonSet.DaemonSetController(_informers, loggerFactory, time),
            new Disruption.DisruptionController(_informers, loggerFactory, time),
            new GarbageCollector.GarbageCollector(_informers, loggerFactory, time),
            new Endpoints.EndpointsController(_informers, loggerFactory, time),
            new EndpointSlice.EndpointSliceController(_informers, loggerFactory, time),
            new NodeIpam.NodeIpamController(_informers, clusterCidr, loggerFactory, time),
            new NodeLifecycle.NodeLifecycleController(_informers, loggerFactory, time, nodeLifecycle),
            new PodGc.PodGcController(_informers, loggerFactory, time),
            new TtlAfterFinished.TtlAfterFinishedController(_informers, loggerFactory, time),
            new Autoscaling.HorizontalPodAutoscalerController(_informers, loggerFactory, time),
            new PersistentVolume.PersistentVolumeBinder(_informers, loggerFactory, time, localPath),
        ];
    }

    public IReadOnlyList<Runtime.Controller> Controllers => _controllers;

    /// <summary>Completes when every informer has loaded its first list.</summary>
    public Task Synced => Task.WhenAll(_informers.All.Select(i => i.Synced));

    /// <summary>Runs every loop until cancelled (each starts once its informers have synced).</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(_controllers.Select(c => c.RunAsync(cancellationToken)));
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    public void Dispose()
    {
        foreach (var controller in _controllers)
        {
            controller.Dispose();
        }
    }
}
