using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Contract.Parity;

/// <summary>
/// A member's second device, open beside its current one: a phone and a laptop on one link. It connects with the
/// member's newest token and joins at once; it ends by leaving or by dropping its connection. While either device is
/// joined the member is online (DESIGN.md §2's presence counts devices), and a removal closes both.
/// </summary>
internal sealed partial class ParitySide
{
    private static string SpareSlot(string member) => member + "/spare";

    private HubTestClient? OpenSpare(string member) =>
        _devices.GetValueOrDefault(SpareSlot(member)) is { Closed.IsCompleted: false } spare ? spare : null;

    /// <summary>Opens the member's second device, or ends the open one (<c>op.A</c>: "leave" first, or "drop" the connection).</summary>
    private async Task<string> SpareDeviceAsync(ParityOp op)
    {
        var slot = SpareSlot(op.Actor);
        if (OpenSpare(op.Actor) is { } spare)
        {
            var left = "";
            if (Equals(op.A, "leave") && _joined.Contains(slot))
            {
                left = await InvokeCallAsync(new ParityOp(op.Index, ParityOpKind.Leave, slot), spare) + " | ";
            }

            _joined.Remove(slot);
            await DrainAsync(spare, Version);
            await spare.DisposeAsync();
            _devices[slot] = null;
            return left + "spare closed";
        }

        try
        {
            var device = await server.ConnectAsync(_tokens[op.Actor], o => o.MessagePack = messagePack);
            _devices[slot] = device;
            _everyDevice.Add(($"{slot}#{_everyDevice.Count(d => d.Name.StartsWith(slot + "#", StringComparison.Ordinal)) + 1}", device));
            return "spare connected | " + await InvokeCallAsync(new ParityOp(op.Index, ParityOpKind.Join, slot, SinceKind.Null), device);
        }
        catch (HubConnectException ex)
        {
            _devices[slot] = null;
            return $"spare refused {(int?)ex.StatusCode}";
        }
    }
}
