using Lotse.Client.Queues;

namespace Lotse.Client.Tests.Queues;

public class WorkQueueTests
{
    [Fact]
    public async Task WithPriorities_HigherKeysComeFirst_EqualOnesInArrivalOrder()
    {
        var priorities = new Dictionary<string, int> { ["low-1"] = 0, ["high"] = 1000, ["low-2"] = 0, ["mid"] = 10 };
        using var queue = new WorkQueue(priority: key => priorities[key]);
        foreach (var key in priorities.Keys)
        {
            queue.Add(key);
        }

        var order = new List<string>();
        for (var i = 0; i < priorities.Count; i++)
        {
            order.Add((await queue.GetAsync(CancellationToken.None))!);
        }

        Assert.Equal(["high", "mid", "low-1", "low-2"], order);
    }

    [Fact]
    public async Task Add_SameKeyTwice_HandedOutOnce()
    {
        using var queue = new WorkQueue();
        queue.Add("a");
        queue.Add("a");
        queue.Add("b");
        Assert.Equal(2, queue.Depth);
        Assert.Equal("a", await queue.GetAsync(CancellationToken.None));
        Assert.Equal("b", await queue.GetAsync(CancellationToken.None));
        Assert.Equal(0, queue.Depth);
    }

    [Fact]
    public async Task Add_WhileProcessing_QueuedAgainOnDone()
    {
        using var queue = new WorkQueue();
        queue.Add("a");
        var key = await queue.GetAsync(CancellationToken.None);
        queue.Add("a");
        Assert.Equal(0, queue.Depth); // never to two workers at once
        queue.Done(key!);
        Assert.Equal(1, queue.Depth);
        Assert.Equal("a", await queue.GetAsync(CancellationToken.None));
    }

    [Fact]
    public async Task GetAsync_AfterShutDown_ReturnsNull()
    {
        using var queue = new WorkQueue();
        var waiting = queue.GetAsync(CancellationToken.None);
        queue.ShutDown();
        Assert.Null(await waiting);
    }

    [Fact]
    public async Task AddAfter_AddsOnceTheDelayPassed()
    {
        using var queue = new WorkQueue();
        queue.AddAfter("a", TimeSpan.FromMilliseconds(50));
        Assert.Equal(0, queue.Depth);
        Assert.Equal(1, queue.Delayed);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        Assert.Equal("a", await queue.GetAsync(timeout.Token));
    }

    [Fact]
    public void RateLimiter_FailuresDoubleFrom5msAndForgetResets()
    {
        var limiter = new RateLimiter(TimeProvider.System, perSecond: 1e9, burst: int.MaxValue);
        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.When("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), limiter.When("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(20), limiter.When("a"));
        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.When("b"));
        limiter.Forget("a");
        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.When("a"));
        for (var i = 0; i < 40; i++)
        {
            limiter.When("c");
        }

        Assert.Equal(TimeSpan.FromSeconds(1000), limiter.When("c"));
    }

    [Fact]
    public void RateLimiter_BucketSpreadsManyKeysAfterTheBurst()
    {
        var limiter = new RateLimiter(TimeProvider.System, perSecond: 10, burst: 5);
        var delays = Enumerable.Range(0, 8).Select(i => limiter.When($"k{i}")).ToList();
        Assert.All(delays.Take(5), d => Assert.Equal(TimeSpan.FromMilliseconds(5), d));
        Assert.True(delays[7] >= TimeSpan.FromMilliseconds(250), $"the 8th key waits for the bucket, got {delays[7]}");
    }
}
