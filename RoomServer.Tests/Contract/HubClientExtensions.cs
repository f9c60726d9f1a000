using System.Text.Json;
using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>Typed reads of what the server pushes, for readable assertions.</summary>
public static class HubClientExtensions
{
    public static async Task<RoomEvent> NextEventAsync(this HubTestClient client, TimeSpan? timeout = null) =>
        (await client.NextAsync("RoomEvent", timeout)).Deserialize<RoomEvent>(ContractServer.Json)!;

    public static async Task<PresenceChange> NextPresenceAsync(this HubTestClient client, Func<PresenceChange, bool> match, TimeSpan? timeout = null) =>
        (await client.WaitForAsync("Presence", e => match(e.Deserialize<PresenceChange>(ContractServer.Json)!), timeout))
            .Deserialize<PresenceChange>(ContractServer.Json)!;

    /// <summary>Reads events until one with the given version; fails if another version comes first.</summary>
    public static async Task<RoomEvent> NextEventShouldBeAsync(this HubTestClient client, long version)
    {
        var next = await client.NextEventAsync();
        next.Version.Should().Be(version, "events arrive strictly in version order with nothing in between");
        return next;
    }

    /// <summary>Drains the events already received (e.g. member joins) up to and including a version.</summary>
    public static async Task SkipEventsThroughAsync(this HubTestClient client, long version)
    {
        while (true)
        {
            var next = await client.NextEventAsync();
            if (next.Version >= version)
            {
                return;
            }
        }
    }

    /// <summary>
    /// As <see cref="RejectedCodeAsync"/>, for a call racing a close the server has scheduled (a removed member's
    /// connection closes 0.2–0.4 s after its removal is known): null when the connection closed first.
    /// </summary>
    public static async Task<string?> RejectedCodeUnlessClosedFirstAsync(this HubTestClient client, string method, params object?[] args)
    {
        try
        {
            await client.InvokeAsync(method, args);
        }
        catch (HubErrorException error)
        {
            return error.Code;
        }
        catch (InvalidOperationException)
        {
            return null; // closed before the call was answered
        }

        throw new InvalidOperationException($"{method} must be rejected, but it succeeded");
    }

    /// <summary>Invokes a hub method that must fail, and returns the error code.</summary>
    public static async Task<string> RejectedCodeAsync(this HubTestClient client, string method, params object?[] args)
    {
        var act = () => client.InvokeAsync(method, args);
        var error = await act.Should().ThrowAsync<HubErrorException>($"{method} must be rejected");
        return error.Which.Code;
    }

    public static Task<ChoiceAck> SetChoiceAsync(this HubTestClient client, TestRoom room, string menuId, int quantity, string? opId = null) =>
        client.InvokeAsync<ChoiceAck>("SetChoice", room.Id, menuId, quantity, opId);

    public static Task<ChoiceAck> AdjustChoiceAsync(this HubTestClient client, TestRoom room, string menuId, int delta, string? opId = null) =>
        client.InvokeAsync<ChoiceAck>("AdjustChoice", room.Id, menuId, delta, opId);

    public static JsonElement Raw(this object value) => JsonSerializer.SerializeToElement(value, ContractServer.Json);
}
