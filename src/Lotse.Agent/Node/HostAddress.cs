using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Lotse.Agent.Node;

/// <summary>This host's address, as K3s picks it: the IPv4 address of the interface the default route leaves through, else the first up, non-loopback one, else 127.0.0.1.</summary>
public static class HostAddress
{
    public static string PrimaryIPv4()
    {
        var interfaces = NetworkInterface.GetAllNetworkInterfaces().Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback).ToList();
        var defaultInterface = DefaultRouteInterface();
        foreach (var nic in interfaces.OrderBy(n => n.Name == defaultInterface ? 0 : 1))
        {
            foreach (var address in nic.GetIPProperties().UnicastAddresses)
            {
                if (address.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(address.Address))
                {
                    return address.Address.ToString();
                }
            }
        }

        return "127.0.0.1";
    }

    /// <summary>The interface of the IPv4 default route (<c>/proc/net/route</c>: destination 00000000).</summary>
    private static string? DefaultRouteInterface()
    {
        try
        {
            return File.ReadLines("/proc/net/route").Skip(1)
                .Select(l => l.Split('\t', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                .FirstOrDefault(f => f.Length > 2 && f[1] == "00000000")?[0];
        }
        catch (IOException)
        {
            return null;
        }
    }
}
