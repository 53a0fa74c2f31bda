using FsCheck;
using FsCheck.Fluent;

namespace Lotse.Storage.Tests.Contract;

public abstract partial class StoreContractTests
{
    /// <summary>One random operation: kind 0 create, 1 update, 2 delete; a key of four; a stale or fresh expectation.</summary>
    public sealed record Op(int Kind, int Key, bool Stale);

    /// <summary>
    /// Random sequences of conditional writes give the same statuses, revision steps, final state and
    /// event log as a plain dictionary model of etcd's semantics.
    /// </summary>
    [Fact]
    public void Model_RandomOperations_MatchAnInMemoryModel()
    {
        var gen = Gen.Choose(0, 2).SelectMany(kind => Gen.Choose(0, 3).SelectMany(key => Gen.Elements(true, false).Select(stale => new Op(kind, key, stale))));
        Prop.ForAll(Gen.ListOf(gen).Where(l => l.Count <= 25).ToArbitrary(), ops => RunModelAsync(ops.ToList()).GetAwaiter().GetResult())
            .Check(Config.QuickThrowOnFailure.WithMaxTest(30));
    }

    private async Task<bool> RunModelAsync(List<Op> ops)
    {
        var prefix = $"{P}model-{Guid.NewGuid():N}/";
        var start = await Store.GetCurrentRevisionAsync();
        var model = new Dictionary<string, (string Value, long Create, long Mod)>();
        var log = new List<(WatchEventType Type, string Key, string Value)>();
        long steps = 0;
        foreach (var (op, index) in ops.Select((o, i) => (o, i)))
        {
            var key = $"{prefix}{op.Key}";
            var value = $"v{index}";
            var present = model.TryGetValue(key, out var current);
            // A stale expectation is one the key never had (its next revision); 0 would mean "any".
            var expected = present ? (op.Stale ? current.Mod + 1 : current.Mod) : 3;
            WriteResult result;
            WriteStatus want;
            switch (op.Kind)
            {
                case 0:
                    result = await Store.CreateAsync(key, V(value));
                    want = present ? WriteStatus.AlreadyExists : WriteStatus.Ok;
                    break;
                case 1:
                    result = await Store.UpdateAsync(key, V(value), expected);
                    want = !present ? WriteStatus.NotFound : op.Stale ? WriteStatus.Conflict : WriteStatus.Ok;
                    break;
                default:
                    result = await Store.DeleteAsync(key, expected);
                    want = !present ? WriteStatus.NotFound : op.Stale ? WriteStatus.Conflict : WriteStatus.Ok;
                    break;
            }

            if (result.Status != want)
            {
                return false;
            }

            if (want == WriteStatus.Ok)
            {
                steps++;
                if (result.Revision != start + steps)
                {
                    return false;
                }

                if (op.Kind == 2)
                {
                    model.Remove(key);
                    log.Add((WatchEventType.Delete, key, string.Empty));
                }
                else
                {
                    model[key] = (value, present ? current.Create : result.Revision, result.Revision);
                    log.Add((WatchEventType.Put, key, value));
                }
            }
        }

        var range = await Store.RangeAsync(new RangeRequest(prefix));
        var expectedState = model.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value.Value, kv.Value.Create, kv.Value.Mod));
        if (!range.Items.Select(k => (k.Key, S(k.Value), k.CreateRevision, k.ModRevision)).SequenceEqual(expectedState))
        {
            return false;
        }

        await using var watch = new WatchCollector(Store, prefix, start);
        var events = await watch.WaitForAsync(log.Count, TimeSpan.FromSeconds(10));
        return events.Select(e => (e.Type, e.Kv.Key, e.Type == WatchEventType.Delete ? string.Empty : S(e.Kv.Value))).SequenceEqual(log);
    }
}
