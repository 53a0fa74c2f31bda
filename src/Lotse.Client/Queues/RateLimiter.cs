namespace Lotse.Client.Queues;

/// <summary>
/// client-go's default controller rate limiter: the larger of a per-item exponential back-off
/// (5 ms doubling to 1000 s, reset by <see cref="Forget"/>) and an overall token bucket (10 per
/// second, bursts of 100), so one failing key backs off alone and many failing keys can't spin.
/// </summary>
public sealed class RateLimiter(TimeProvider time, TimeSpan? baseDelay = null, TimeSpan? maxDelay = null, double perSecond = 10, int burst = 100)
{
    private readonly TimeSpan _base = baseDelay ?? TimeSpan.FromMilliseconds(5);
    private readonly TimeSpan _max = maxDelay ?? TimeSpan.FromSeconds(1000);
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private double _tokens = burst;
    private DateTimeOffset _last = time.GetUtcNow();

    public TimeSpan When(string item)
    {
        lock (_gate)
        {
            var failures = _failures.GetValueOrDefault(item);
            _failures[item] = failures + 1;
            var backoff = failures >= 30 ? _max : TimeSpan.FromTicks(Math.Min(_max.Ticks, _base.Ticks * (1L << failures)));

            var now = time.GetUtcNow();
            _tokens = Math.Min(burst, _tokens + ((now - _last).TotalSeconds * perSecond));
            _last = now;
            _tokens -= 1;
            var bucket = _tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-_tokens / perSecond);
            return backoff > bucket ? backoff : bucket;
        }
    }

    public int Failures(string item)
    {
        lock (_gate)
        {
            return _failures.GetValueOrDefault(item);
        }
    }

    public void Forget(string item)
    {
        lock (_gate)
        {
            _failures.Remove(item);
        }
    }
}
