using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

namespace Portal.Security;

/// <summary>
/// Behind a reverse proxy (nginx, deploy/nginx/portal.conf) every request arrives from the proxy;
/// the client's address and scheme are in the X-Forwarded-For and X-Forwarded-Proto it adds. They are
/// believed only from a loopback peer (a proxy on this machine) or an address listed in
/// <c>ReverseProxy:KnownProxies</c> — anyone else could write them — and only the last hop is taken,
/// the one the proxy itself appended. Then the login throttle counts per real client, <c>/metrics</c>
/// sees who really asks, and sign-in redirects and cookies know the request was HTTPS.
/// </summary>
public static class ReverseProxy
{
    public const string Section = "ReverseProxy";

    public static IHostApplicationBuilder AddReverseProxy(this IHostApplicationBuilder builder)
    {
        var known = builder.Configuration.GetSection($"{Section}:KnownProxies").Get<string[]>() ?? [];
        var addresses = new List<IPAddress>();
        foreach (var value in known)
        {
            addresses.Add(IPAddress.TryParse(value, out var address)
                ? address
                : throw new InvalidOperationException($"{Section}:KnownProxies: '{value}' is not an IP address."));
        }

        builder.Services.Configure<ForwardedHeadersOptions>(options =>
        {
            options.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // The defaults already hold 127.0.0.1 and ::1.
            foreach (var address in addresses)
            {
                options.KnownProxies.Add(address);
            }
        });
        return builder;
    }
}
