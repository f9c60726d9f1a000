using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.SignalR;

namespace RoomShare.RoomServer.Tests.TestKit;

/// <summary>The test hub behind <see cref="KitHubServer"/>: one method per client behaviour under test.</summary>
[SuppressMessage("Performance", "CA1822", Justification = "SignalR only dispatches to instance methods.")]
public sealed class KitHub : Hub
{
    public string Echo(string text) => text;

    public KitResult Add(int a, int b) => new(a + b, "sum");

    public Task Nothing() => Task.CompletedTask;

    public void Fail() => throw new HubException("room_locked: the room is locked");

    /// <summary>Pushes <paramref name="count"/> RoomEvents to the caller, versions 1..count, then returns.</summary>
    public async Task<int> Push(int count)
    {
        for (var version = 1; version <= count; version++)
        {
            await Clients.Caller.SendAsync("RoomEvent", new { type = "choice", version });
        }

        return count;
    }

    /// <summary>Just enough of the room contract for tests/js/signalr-client.mjs to run against.</summary>
    public object Join(string roomId, object? since) =>
        new { position = new { epoch = "kit-epoch", version = 0 }, snapshot = (object?)null, missed = Array.Empty<object>(), replica = "kit" };

    public async Task<object> SetChoice(string roomId, string menuId, int quantity, string? opId)
    {
        if (menuId != "m1")
        {
            throw new HubException($"unknown_menu_item: {menuId} is not on the menu");
        }

        await Clients.Caller.SendAsync("RoomEvent", new { roomId, epoch = "kit-epoch", version = 1, type = "choice", memberId = "m", menuId, quantity, opId });
        return new { version = 1, quantity };
    }

    /// <summary>Never completes on its own: a pending invocation for the connection-closed tests.</summary>
    public Task Hang() => Task.Delay(Timeout.Infinite, Context.ConnectionAborted);

    /// <summary>Sends <paramref name="target"/> to the caller with <paramref name="argumentCount"/> arguments <c>{ target, index }</c>.</summary>
    public Task Send(string target, int argumentCount) =>
        Clients.Caller.SendCoreAsync(target, Enumerable.Range(0, argumentCount).Select(index => (object?)new { target, index }).ToArray());

    /// <summary>Drops the caller's connection without completing: the invocation dies with it.</summary>
    public Task Drop()
    {
        Context.Abort();
        return Task.Delay(Timeout.Infinite, Context.ConnectionAborted);
    }
}

public sealed record KitResult(int Value, string Label);
