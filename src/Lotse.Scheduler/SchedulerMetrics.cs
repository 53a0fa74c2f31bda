using Prometheus;

namespace Lotse.Scheduler;

/// <summary>kube-scheduler's metrics under its names: attempts by result, and the pods waiting per queue.</summary>
internal static class SchedulerMetrics
{
    private static readonly Counter Attempts = Metrics.CreateCounter("scheduler_schedule_attempts_total", "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.", "result", "profile");
    private static readonly Gauge Pending = Metrics.CreateGauge("scheduler_pending_pods", "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'unschedulable' means number of pods in unschedulablePods.", "queue");

    public static readonly Counter.Child Scheduled = Attempts.WithLabels("scheduled", Scheduler.DefaultName);
    public static readonly Counter.Child Unschedulable = Attempts.WithLabels("unschedulable", Scheduler.DefaultName);
    public static readonly Counter.Child Error = Attempts.WithLabels("error", Scheduler.DefaultName);
    public static readonly Gauge.Child Active = Pending.WithLabels("active");
    public static readonly Gauge.Child Waiting = Pending.WithLabels("unschedulable");
}
