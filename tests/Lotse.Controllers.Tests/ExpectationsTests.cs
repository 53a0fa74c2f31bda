using k8s.Models;
using Lotse.Controllers.Runtime;

namespace Lotse.Controllers.Tests;

public sealed class ExpectationsTests
{
    private static V1ObjectMeta Pod(string uid, bool going = false) => new() { Uid = uid, DeletionTimestamp = going ? DateTime.UtcNow : null };

    [Fact]
    public void ADeletionSeenTwiceCountsOnce()
    {
        var expectations = new Expectations(TimeProvider.System);
        expectations.Expect("ns/rs", 0, ["a", "b"]);
        expectations.Observe("ns/rs", Pod("a"), Pod("a", going: true), removed: false);
        expectations.Observe("ns/rs", null, Pod("a", going: true), removed: true);
        Assert.False(expectations.Satisfied("ns/rs"));
        expectations.Observe("ns/rs", null, Pod("b", going: true), removed: true);
        Assert.True(expectations.Satisfied("ns/rs"));
    }

    [Fact]
    public void APodThatWasAlreadyGoingIsSeenByItsRemoval()
    {
        // Deleting a pod whose deletionTimestamp the cache had not shown yet: no further update comes, only the removal.
        var expectations = new Expectations(TimeProvider.System);
        expectations.Expect("ns/rs", 0, ["a"]);
        expectations.Observe("ns/rs", Pod("a", going: true), Pod("a", going: true), removed: false);
        Assert.True(expectations.Satisfied("ns/rs"));
        expectations.Expect("ns/rs", 0, ["b"]);
        expectations.Observe("ns/rs", null, Pod("b", going: true), removed: true);
        Assert.True(expectations.Satisfied("ns/rs"));
    }

    [Fact]
    public void CreationsAreCountedAndFailedOnesLowered()
    {
        var expectations = new Expectations(TimeProvider.System);
        expectations.Expect("ns/rs", 3);
        expectations.Observe("ns/rs", null, Pod("x"), removed: false);
        expectations.Observe("ns/rs", Pod("x"), Pod("x"), removed: false); // an update is no creation
        Assert.False(expectations.Satisfied("ns/rs"));
        expectations.LowerCreations("ns/rs", 2);
        Assert.True(expectations.Satisfied("ns/rs"));
        Assert.True(expectations.Satisfied("ns/other"));
    }

    [Fact]
    public void UnrelatedDeletionsDoNotCountAndOldExpectationsAreGivenUp()
    {
        var time = new SteppedTime();
        var expectations = new Expectations(time);
        expectations.Expect("ns/rs", 0, ["a"]);
        expectations.Observe("ns/rs", null, Pod("z"), removed: true);
        Assert.False(expectations.Satisfied("ns/rs"));
        time.Now += TimeSpan.FromMinutes(5) + TimeSpan.FromSeconds(1);
        Assert.True(expectations.Satisfied("ns/rs"));
    }

    private sealed class SteppedTime : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = DateTimeOffset.UnixEpoch;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
