using Prometheus;

namespace Lotse.Client.Queues;

/// <summary>
/// client-go's workqueue metrics for one named queue: depth, adds, retries, how long keys wait
/// (<c>workqueue_queue_duration_seconds</c>) and are worked on (<c>workqueue_work_duration_seconds</c>).
/// Called under the queue's lock.
/// </summary>
internal sealed class QueueMetrics(string name, TimeProvider time)
{
    private static readonly double[] Buckets = Histogram.ExponentialBuckets(1e-8, 10, 10);
    private static readonly Gauge DepthGauge = Metrics.CreateGauge("workqueue_depth", "Current depth of workqueue", "name");
    private static readonly Counter Adds = Metrics.CreateCounter("workqueue_adds_total", "Total number of adds handled by workqueue", "name");
    private static readonly Counter Retries = Metrics.CreateCounter("workqueue_retries_total", "Total number of retries handled by workqueue", "name");
    private static readonly Histogram Waited = Metrics.CreateHistogram("workqueue_queue_duration_seconds", "How long in seconds an item stays in workqueue before being requested.", new HistogramConfiguration { LabelNames = ["name"], Buckets = Buckets });
    private static readonly Histogram Worked = Metrics.CreateHistogram("workqueue_work_duration_seconds", "How long in seconds processing an item from workqueue takes.", new HistogramConfiguration { LabelNames = ["name"], Buckets = Buckets });

    private readonly Gauge.Child _depth = DepthGauge.WithLabels(name);
    private readonly Counter.Child _adds = Adds.WithLabels(name);
    private readonly Counter.Child _retries = Retries.WithLabels(name);
    private readonly Histogram.Child _waited = Waited.WithLabels(name);
    private readonly Histogram.Child _worked = Worked.WithLabels(name);
    private readonly Dictionary<string, long> _addedAt = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _startedAt = new(StringComparer.Ordinal);

    public void Added(string key)
    {
        _adds.Inc();
        _addedAt.TryAdd(key, time.GetTimestamp());
    }

    public void Depth(int depth) => _depth.Set(depth);

    public void Retried() => _retries.Inc();

    public void Started(string key, int depth)
    {
        _depth.Set(depth);
        var now = time.GetTimestamp();
        if (_addedAt.Remove(key, out var added))
        {
            _waited.Observe(time.GetElapsedTime(added, now).TotalSeconds);
        }

        _startedAt[key] = now;
    }

    public void Finished(string key)
    {
        if (_startedAt.Remove(key, out var started))
        {
            _worked.Observe(time.GetElapsedTime(started).TotalSeconds);
        }
    }
}
