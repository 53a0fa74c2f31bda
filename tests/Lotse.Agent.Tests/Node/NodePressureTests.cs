using Lotse.Agent.Node;

namespace Lotse.Agent.Tests.Node;

public sealed class NodePressureTests
{
    private const long Gi = 1024L * 1024 * 1024;

    private static NodeSignals Signals(long memory = 8 * Gi, long nodefs = 50 * Gi, long inodes = 1_000_000, long pids = 4_000_000) => new(new Dictionary<string, (long, long)>
    {
        ["memory.available"] = (memory, 16 * Gi),
        ["nodefs.available"] = (nodefs, 100 * Gi),
        ["nodefs.inodesFree"] = (inodes, 2_000_000),
        ["imagefs.available"] = (nodefs, 100 * Gi),
        ["pid.available"] = (pids, 4_194_304),
    });

    [Fact]
    public void TheDefaults_AreTheKubeletsOnLinux()
    {
        var defaults = EvictionThresholds.Parse(EvictionThresholds.Default);
        Assert.Equal(["imagefs.available", "memory.available", "nodefs.available", "nodefs.inodesFree"], defaults.Signals.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(100L * 1024 * 1024, defaults.Signals["memory.available"].Quantity);
        Assert.Equal(10, defaults.Signals["nodefs.available"].Percent);
    }

    [Theory]
    [InlineData("memory.avail<1Gi", "--eviction-hard \"memory.avail<1Gi\": expected SIGNAL<QUANTITY or SIGNAL<PERCENT% with SIGNAL one of")]
    [InlineData("memory.available>1Gi", "--eviction-hard \"memory.available>1Gi\": expected SIGNAL<QUANTITY")]
    [InlineData("nodefs.available<120%", "--eviction-hard \"nodefs.available<120%\": the percentage must be 0 to 100")]
    [InlineData("memory.available<lots", "--eviction-hard \"memory.available<lots\": \"lots\" is not a quantity")]
    public void BadThresholds_AreRefusedWithTheFlagNamed(string text, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => EvictionThresholds.Parse(text));
        Assert.StartsWith(message.Split(" with ")[0], error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CrossedThresholds_SetTheirConditions_AndHoldThemForTheTransitionPeriod()
    {
        var time = new SteppedTime();
        var pressure = new NodePressure(EvictionThresholds.Parse(EvictionThresholds.Default + ",pid.available<1000"), "/", "/", time);
        Assert.Equal((false, false, false), pressure.Evaluate(Signals()));
        Assert.Equal((true, false, false), pressure.Evaluate(Signals(memory: 50L * 1024 * 1024)));
        Assert.Equal((true, true, false), pressure.Evaluate(Signals(nodefs: 9 * Gi)));
        Assert.Equal((true, true, true), pressure.Evaluate(Signals(inodes: 1000, pids: 10)));

        // Recovered, but within five minutes: still under pressure (no flapping); then clear.
        time.Now += TimeSpan.FromMinutes(4);
        Assert.Equal((true, true, true), pressure.Evaluate(Signals()));
        time.Now += TimeSpan.FromMinutes(2);
        Assert.Equal((false, false, false), pressure.Evaluate(Signals()));
    }

    [Fact]
    public void ThisMachine_IsMeasured()
    {
        var signals = new NodePressure(EvictionThresholds.Parse(EvictionThresholds.Default), Path.GetTempPath(), "/nonexistent/containerd/root", TimeProvider.System).Measure();
        foreach (var signal in (string[])["memory.available", "nodefs.available", "nodefs.inodesFree", "imagefs.available", "pid.available"])
        {
            var (available, capacity) = signals.Values[signal];
            Assert.True(available > 0 && available <= capacity, $"{signal}: {available} of {capacity}");
        }
    }

    private sealed class SteppedTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
