using System.Diagnostics;
using System.Net.Http.Json;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// The server's room ticks, seen from a connection of its own: a room closed before anyone joined, and a
/// first-timer joined to it as no member, whom no event ever reaches — so each tick of that room sends it a
/// <c>Position</c> (DESIGN.md §2). A test that waits for ticks (a grace period, a lease, a tick that must not
/// send something) waits on this, which fails if the ticks stop, rather than on the wall clock alone.
/// </summary>
public sealed class TickClock : IAsyncDisposable
{
    private static readonly TimeSpan OneTickAtMost = TimeSpan.FromSeconds(5);

    private readonly HubTestClient _client;

    private TickClock(HubTestClient client) => _client = client;

    public static async Task<TickClock> StartAsync(ContractServer server)
    {
        var room = await server.CreateRoomAsync();
        (await server.Api.PutAsJsonAsync($"/api/rooms/{room.Id}/state", new { state = "closed" })).EnsureSuccessStatusCode();
        var clock = await server.JoinAsync(room, "clock");
        return new TickClock(clock.Client);
    }

    /// <summary>A clock of its own for one wait: <see cref="LetTimePassAsync(TimeSpan)"/>.</summary>
    public static async Task LetTimePassAsync(ContractServer server, TimeSpan duration)
    {
        await using var clock = await StartAsync(server);
        await clock.LetTimePassAsync(duration);
    }

    /// <summary>Returns once <paramref name="duration"/> has passed by the stopwatch, reading the ticks' positions meanwhile (at least one).</summary>
    public async Task LetTimePassAsync(TimeSpan duration)
    {
        // Counting positions instead could return at once on ones queued earlier, so the time is measured.
        var clock = Stopwatch.StartNew();
        do
        {
            await _client.NextAsync("Position", OneTickAtMost);
        }
        while (clock.Elapsed < duration);
    }

    /// <summary>
    /// Returns after <paramref name="ticks"/> more positions of the clock's room. The first may come from a tick already
    /// under way, so only <paramref name="ticks"/> − 1 whole intervals are sure to have passed.
    /// </summary>
    public async Task LetTicksPassAsync(int ticks)
    {
        while (_client.TryRead("Position", out _))
        {
        }

        for (var i = 0; i < ticks; i++)
        {
            await _client.NextAsync("Position", OneTickAtMost);
        }
    }

    public ValueTask DisposeAsync() => _client.DisposeAsync();
}
