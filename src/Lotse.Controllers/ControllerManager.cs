using k8s;
using Lotse.Client.Informers;
using Lotse.Controllers.Namespace;
using Lotse.Controllers.ReplicaSet;
using Lotse.Controllers.ServiceAccount;
using Microsoft.Extensions.Logging;

namespace Lotse.Controllers;

/// <summary>
/// The controller manager: every control loop over one set of shared informers, as a client of the
/// API server like any other. (Leader election joins with the HA issue; one server runs the loops today.)
/// </summary>
public sealed class ControllerManager : IDisposable
{
    private readonly InformerFactory _informers;
    private readonly List<Runtime.Controller> _controllers;

    public ControllerManager(IKubernetes client, string rootCaPem, ILoggerFactory loggerFactory, TimeProvider? time = null)
    {
        _informers = new InformerFactory(client, loggerFactory, time);
        _controllers =
        [
            new NamespaceController(_informers, loggerFactory, time),
            new ServiceAccountController(_informers, loggerFactory, time),
            new RootCaPublisher.RootCaPublisher(_informers, rootCaPem, loggerFactory, time),
            new ReplicaSetController(_informers, loggerFactory, time),
            new Deployment.DeploymentController(_informers, loggerFactory, time),
            new Job.JobController(_informers, loggerFactory, time),
            new GarbageCollector.GarbageCollector(_informers, loggerFactory, time),
            new Endpoints.EndpointsController(_informers, loggerFactory, time),
            new EndpointSlice.EndpointSliceController(_informers, loggerFactory, time),
        ];
    }

    public IReadOnlyList<Runtime.Controller> Controllers => _controllers;

    /// <summary>Completes when every informer has loaded its first list.</summary>
    public Task Synced => Task.WhenAll(_informers.All.Select(i => i.Synced));

    /// <summary>Runs the informers and every loop until cancelled.</summary>
    public async Task RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(_controllers.Select(c => c.RunAsync(cancellationToken)).Append(_informers.RunAsync(cancellationToken)));
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
