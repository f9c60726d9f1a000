using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Hubs;

/// <summary>
/// A replica draining (DESIGN.md §9), held open by a Join held at its store: a call in flight, which the drain waits
/// for (a quarter of its budget: give the server a long <c>DrainSeconds</c> so a loaded box has time for the test's
/// requests). Started once <c>/readyz</c> says it drains; <see cref="EndAsync"/> ends it.
/// </summary>
public sealed class HeldDrain : IAsyncDisposable
{
    private readonly JoinHoldEmbeddedServer _server;
    private readonly HubTestClient _device;
    private readonly Task<JsonElement> _join;
    private readonly Task _stopping;

    private HeldDrain(JoinHoldEmbeddedServer server, HubTestClient device, Task<JsonElement> join, Task stopping) =>
        (_server, _device, _join, _stopping) = (server, device, join, stopping);

    public static async Task<HeldDrain> StartAsync(JoinHoldEmbeddedServer server)
    {
        var room = await server.CreateRoomAsync();
        var device = await server.ConnectAsync(await server.TokenAsync(room, "bob"));
        server.Hold.Arm("bob");
        var join = device.InvokeAsync("Join", room.Id, null);
        await server.Hold.Reached.WaitAsync(TimeSpan.FromSeconds(10));
        var stopping = Task.Factory.StartNew(server.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication, TaskCreationOptions.LongRunning);
        var drain = new HeldDrain(server, device, join, stopping);
        try
        {
            await Poll.UntilAsync(
                async () =>
                {
                    using var ready = await server.Anonymous.GetAsync("/readyz");
                    return ready.StatusCode == HttpStatusCode.ServiceUnavailable;
                },
                TimeSpan.FromSeconds(10),
                "the replica drains");
            return drain;
        }
        catch
        {
            await drain.DisposeAsync();
            throw;
        }
    }

    /// <summary>Lets the held Join go on, which still answers before its connection is closed, and waits for the drain to end.</summary>
    public async Task EndAsync()
    {
        _server.Hold.Release();
        (await _join).ValueKind.Should().NotBe(JsonValueKind.Undefined, "the held Join still answers before its connection is closed");
        await _stopping.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>After <see cref="EndAsync"/>, or a test that failed first: nothing of it is left held.</summary>
    public async ValueTask DisposeAsync()
    {
        _server.Hold.Release();
        await _device.DisposeAsync();
    }
}
