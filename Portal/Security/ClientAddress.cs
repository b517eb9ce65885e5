using System.Net;
using System.Net.Sockets;

namespace Portal.Security;

/// <summary>Who a throttle counts: the client's address, as one key per client.</summary>
public static class ClientAddress
{
    /// <summary>
    /// The client's address: behind nginx, the one it forwarded (ReverseProxy has
    /// already put it in place, believing only a proxy it knows). An IPv6 client counts by its /64:
    /// one line or server is given a whole /64, so a new address in it costs nothing.
    /// </summary>
    public static string Of(HttpContext http)
    {
        var address = http.Connection.RemoteIpAddress;
        if (address is null)
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4().ToString();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }
}
