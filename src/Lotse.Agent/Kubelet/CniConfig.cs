using System.Text.Json.Nodes;

namespace Lotse.Agent.Kubelet;

/// <summary>
/// The pod network of one node: a CNI bridge (<c>lotse0</c>, the gateway) with host-local
/// addresses from the node's pod CIDR, portmap for hostPorts and loopback — written once the
/// server has given the node its range. No masquerading: pods reach other nodes' pods through
/// routes; reaching beyond the cluster comes with the networking milestone.
/// </summary>
public static class CniConfig
{
    public const string FileName = "10-lotse.conflist";
    public const string Bridge = "lotse0";

    public static string Render(string podCidr, string ipamDataDir)
    {
        var gateway = Gateway(podCidr);
        var config = new JsonObject
        {
            ["cniVersion"] = "1.0.0",
            ["name"] = "lotse",
            ["plugins"] = new JsonArray(
                new JsonObject
                {
                    ["type"] = "bridge",
                    ["bridge"] = Bridge,
                    ["isGateway"] = true,
                    ["ipMasq"] = false,
                    ["hairpinMode"] = true,
                    ["ipam"] = new JsonObject
                    {
                        ["type"] = "host-local",
                        ["ranges"] = new JsonArray(new JsonArray(new JsonObject { ["subnet"] = podCidr, ["gateway"] = gateway })),
                        ["routes"] = new JsonArray(new JsonObject { ["dst"] = "0.0.0.0/0" }),
                        ["dataDir"] = ipamDataDir,
                    },
                },
                new JsonObject { ["type"] = "portmap", ["capabilities"] = new JsonObject { ["portMappings"] = true } },
                new JsonObject { ["type"] = "loopback" }),
        };
        return config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Writes the configuration if it differs from what is there; true when it changed.</summary>
    public static bool Write(string confDir, string podCidr, string ipamDataDir)
    {
        Directory.CreateDirectory(confDir);
        var path = Path.Combine(confDir, FileName);
        var text = Render(podCidr, ipamDataDir);
        if (File.Exists(path) && File.ReadAllText(path) == text)
        {
            return false;
        }

        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
        return true;
    }

    /// <summary>The first address of the range (10.42.3.0/24 → 10.42.3.1).</summary>
    internal static string Gateway(string cidr)
    {
        var network = System.Net.IPAddress.Parse(cidr[..cidr.IndexOf('/', StringComparison.Ordinal)]).GetAddressBytes();
        network[3]++;
        return new System.Net.IPAddress(network).ToString();
    }
}
