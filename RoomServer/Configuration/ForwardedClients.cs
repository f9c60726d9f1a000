using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace RoomShare.RoomServer.Configuration;

/// <summary>
/// Behind nginx every request comes from nginx's address: without this, the per-address API limit would
/// be one bucket for all of a replica's clients. <c>X-Forwarded-For</c> from a trusted proxy
/// (<c>RoomServer:TrustedProxies</c>, and loopback) names the client instead; with the default forward
/// limit of one, only its last entry — the one the proxy appended — is believed, so a client cannot pick
/// its own bucket by sending the header itself.
/// </summary>
public static class ForwardedClients
{
    public static WebApplicationBuilder AddForwardedClients(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ForwardedHeadersOptions>()
            .Configure<IOptions<RoomServerOptions>>((forwarded, room) =>
            {
                forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
                foreach (var proxy in room.Value.TrustedProxies)
                {
                    if (TryParse(proxy, out var network))
                    {
                        forwarded.KnownIPNetworks.Add(network);
                    }
                }
            });
        return builder;
    }

    /// <summary>
    /// An address (a network of one) or a CIDR network. An IPv4 address is taken only as written in its usual form, four
    /// decimal numbers: the platform's parser also reads <c>10</c> as 0.0.0.10, <c>10.1</c> as 10.0.0.1, <c>010.0.0.1</c>
    /// (octal) as 8.0.0.1 and <c>0x0a.0.0.1</c> as 10.0.0.1, none of which an operator means.
    /// </summary>
    public static bool TryParse(string value, out System.Net.IPNetwork network)
    {
        network = default;
        var address = value.Split('/')[0];
        if (!address.Contains(':', StringComparison.Ordinal)
            && !(IPAddress.TryParse(address, out var written) && written.ToString() == address))
        {
            return false;
        }

        if (System.Net.IPNetwork.TryParse(value, out network))
        {
            return true;
        }

        if (IPAddress.TryParse(value, out var parsed))
        {
            network = new System.Net.IPNetwork(parsed, parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return false;
    }
}
