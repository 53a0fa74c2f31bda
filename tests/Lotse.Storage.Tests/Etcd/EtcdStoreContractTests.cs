using Lotse.Storage.Tests.Contract;

namespace Lotse.Storage.Tests.Etcd;

/// <summary>The contract suite against a real etcd (one member per test class).</summary>
public sealed class EtcdStoreContractTests(EtcdFixture etcd) : StoreContractTests, IClassFixture<EtcdFixture>
{
    protected override Task<IStore> CreateStoreAsync() => etcd.ConnectAsync();
}
