namespace Lotse.Storage.Tests.Etcd;

/// <summary>A test that needs Debian's etcd-server (scripts/deps.sh installs it; CI always has it).</summary>
public sealed class EtcdFactAttribute : FactAttribute
{
    public EtcdFactAttribute()
    {
        if (!EtcdFixture.Available)
        {
            Skip = $"etcd is not installed at {EtcdFixture.Binary} (run scripts/deps.sh)";
        }
    }
}
