using System.Diagnostics;

namespace Lotse.Benchmarks.Storage;

/// <summary>Latency samples in microseconds and their percentiles.</summary>
internal sealed class Percentiles
{
    private readonly List<double> _samples = [];
    private readonly Lock _gate = new();

    public void Add(long startTimestamp)
    {
        var micros = Stopwatch.GetElapsedTime(startTimestamp).TotalMicroseconds;
        lock (_gate)
        {
            _samples.Add(micros);
        }
    }

    public void AddMicros(double micros)
    {
        lock (_gate)
        {
            _samples.Add(micros);
        }
    }

    public int Count => _samples.Count;

    public double At(double percentile)
    {
        lock (_gate)
        {
            if (_samples.Count == 0)
            {
                return double.NaN;
            }

            var sorted = _samples.Order().ToArray();
            var index = (int)Math.Ceiling(percentile / 100.0 * sorted.Length) - 1;
            return sorted[Math.Clamp(index, 0, sorted.Length - 1)];
        }
    }
}
