using Prometheus;

namespace Lotse.Controllers.Runtime;

/// <summary>
/// Reconcile metrics under controller-runtime's names, so existing dashboards read them:
/// <c>controller_runtime_reconcile_total{controller,result}</c> (success, error, requeue_after),
/// <c>controller_runtime_reconcile_errors_total</c> and <c>controller_runtime_reconcile_time_seconds</c>.
/// The queues' own metrics are client-go's <c>workqueue_*</c> (<see cref="Lotse.Client.Queues.WorkQueue"/>).
/// </summary>
internal sealed class ControllerMetrics(string controller)
{
    private static readonly Counter Total = Metrics.CreateCounter("controller_runtime_reconcile_total", "Total number of reconciliations per controller", "controller", "result");
    private static readonly Counter Errors = Metrics.CreateCounter("controller_runtime_reconcile_errors_total", "Total number of reconciliation errors per controller", "controller");
    private static readonly Histogram Time = Metrics.CreateHistogram("controller_runtime_reconcile_time_seconds", "Length of time per reconciliation per controller", new HistogramConfiguration
    {
        LabelNames = ["controller"],
        Buckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5, 6, 7, 8, 9, 10, 15, 20, 25, 30, 40, 50, 60],
    });

    private readonly Counter.Child _success = Total.WithLabels(controller, "success");
    private readonly Counter.Child _requeueAfter = Total.WithLabels(controller, "requeue_after");
    private readonly Counter.Child _error = Total.WithLabels(controller, "error");
    private readonly Counter.Child _errors = Errors.WithLabels(controller);
    private readonly Histogram.Child _time = Time.WithLabels(controller);

    public void Reconciled(TimeSpan took, bool requeueAfter)
    {
        (requeueAfter ? _requeueAfter : _success).Inc();
        _time.Observe(took.TotalSeconds);
    }

    public void Failed(TimeSpan took)
    {
        _error.Inc();
        _errors.Inc();
        _time.Observe(took.TotalSeconds);
    }
}
