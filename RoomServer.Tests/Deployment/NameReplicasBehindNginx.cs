using System.Net;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Deployment;

/// <summary>
/// Two stand-in replicas, "a" and "b", behind a real nginx with the repo's rules (nginx/roomshare-*.conf),
/// and an HTTP client through nginx without a cookie jar: each request is a brand-new client unless it
/// sends the cookie itself.
/// </summary>
internal sealed class NameReplicasBehindNginx : IAsyncDisposable
{
    private NameReplicasBehindNginx(IReadOnlyList<NameReplica> replicas, NginxProcess nginx, TimeSpan timeout)
    {
        Replicas = replicas;
        Nginx = nginx;
        Http = new HttpClient(new SocketsHttpHandler { UseCookies = false }) { BaseAddress = nginx.BaseUrl, Timeout = timeout };
    }

    public IReadOnlyList<NameReplica> Replicas { get; }

    public NginxProcess Nginx { get; }

    public HttpClient Http { get; }

    public static async Task<NameReplicasBehindNginx> StartAsync(TimeSpan timeout)
    {
        var replicas = new List<NameReplica>();
        try
        {
            replicas.Add(await NameReplica.StartAsync("a"));
            replicas.Add(await NameReplica.StartAsync("b"));
            return new NameReplicasBehindNginx(replicas, await NginxProcess.StartAsync(replicas.Select(r => r.BaseUrl).ToList()), timeout);
        }
        catch
        {
            foreach (var replica in replicas)
            {
                await replica.DisposeAsync();
            }

            throw;
        }
    }

    public NameReplica Replica(string name) => Replicas.Single(r => r.Name == name);

    /// <summary>A negotiate as a new client: the affinity cookie nginx set and the replica it reached.</summary>
    public async Task<(string Cookie, string Replica)> NegotiateAsNewClientAsync()
    {
        using var response = await Http.PostAsync(new Uri("/hubs/room/negotiate?negotiateVersion=1", UriKind.Relative), null);
        response.StatusCode.Should().Be(HttpStatusCode.OK);
        var setCookie = response.Headers.GetValues("Set-Cookie").Single();
        return (setCookie.Split(';')[0], await response.Content.ReadAsStringAsync());
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        try
        {
            await Nginx.DisposeAsync();
        }
        finally
        {
            foreach (var replica in Replicas)
            {
                await replica.DisposeAsync();
            }
        }
    }
}
