using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract.Parity;

/// <summary>
/// A member's second device, open beside its current one: a phone and a laptop on one link. It connects with the
/// member's newest token and joins at once; it ends by leaving or by dropping its connection. While either device is
/// joined the member is online (DESIGN.md §3 <c>Presence</c>: at least one live connection), and a removal closes both.
/// </summary>
internal sealed partial class ParitySide
{
    /// <summary>What a member's id is followed by in the slot of its second device ('/' is never in a member id).</summary>
    private const string SpareSuffix = "/spare";

    private static string SpareSlot(string member) => member + SpareSuffix;

    /// <summary>The member a device slot belongs to: its own id, or the member whose second device it holds.</summary>
    private static string MemberOf(string slot) => slot.EndsWith(SpareSuffix, StringComparison.Ordinal) ? slot[..^SpareSuffix.Length] : slot;

    private HubTestClient? OpenSpare(string member) =>
        _devices.GetValueOrDefault(SpareSlot(member)) is { Closed.IsCompleted: false } spare ? spare : null;

    /// <summary>
    /// Opens the member's second device, or ends the open one (<c>op.A</c>: "leave" first, or "drop" the connection).
    /// A drop leaves the member's presence to its lease and grace, which end on each server's own tick: only while the
    /// current device is joined (the member stays online), so that a later Join cannot fall between the two sides' ticks.
    /// </summary>
    private async Task<string> SpareDeviceAsync(ParityOp op)
    {
        var slot = SpareSlot(op.Actor);
        if (OpenSpare(op.Actor) is { } spare)
        {
            var answer = "spare dropped";
            if ((Equals(op.A, "leave") || !_joined.Contains(op.Actor)) && _joined.Contains(slot))
            {
                answer = "spare leaves | " + await InvokeCallAsync(new ParityOp(op.Index, ParityOpKind.Leave, slot), spare);
            }

            _joined.Remove(slot);
            await DrainAsync(spare, Version);
            await spare.DisposeAsync();
            _devices[slot] = null;
            return answer;
        }

        _joined.Remove(slot); // a spare the server closed (its member removed) was never taken out
        try
        {
            var device = await server.ConnectAsync(_tokens[op.Actor], o => o.MessagePack = messagePack);
            _devices[slot] = device;
            Track(slot, _tokenRoles[op.Actor], device);
            return "spare connected | " + await InvokeCallAsync(new ParityOp(op.Index, ParityOpKind.Join, slot, SinceKind.Null), device);
        }
        catch (HubConnectException ex)
        {
            _devices[slot] = null;
            return $"spare refused {(int?)ex.StatusCode}";
        }
    }
}
