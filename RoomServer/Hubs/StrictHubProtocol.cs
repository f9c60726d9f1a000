using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// A hub protocol that refuses a message of a type it does not know, instead of skipping it.
/// SignalR's protocols parse such a record and return "no message" (room for future types), but
/// with a maximum message size set the connection handler reads "no message" as "not enough
/// data yet", keeps the record in its buffer and waits: the connection answers nothing more and
/// stays open (found by the chaos battery's fuzz loop: <c>{"type":41}</c>). Throwing instead makes
/// the handler close the connection with the reason logged — DESIGN.md §5's rule for a malformed frame.
/// </summary>
public sealed class StrictHubProtocol(IHubProtocol inner) : IHubProtocol
{
    public string Name => inner.Name;

    public int Version => inner.Version;

    public TransferFormat TransferFormat => inner.TransferFormat;

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        var before = input.Length;
        if (inner.TryParseMessage(ref input, binder, out message))
        {
            return true;
        }

        // Bytes consumed without a message: a whole record of an unknown type, not a partial one.
        return input.Length == before
            ? false
            : throw new InvalidDataException("a message of an unknown type");
    }

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => inner.WriteMessage(message, output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => inner.GetMessageBytes(message);

    public bool IsVersionSupported(int version) => inner.IsVersionSupported(version);
}

/// <summary>Wraps every registered hub protocol in a <see cref="StrictHubProtocol"/>.</summary>
public static class StrictHubProtocolExtensions
{
    /// <summary>Call after every protocol is added (JSON by AddSignalR, MessagePack by AddMessagePackProtocol).</summary>
    public static ISignalRServerBuilder RefuseUnknownMessageTypes(this ISignalRServerBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var registered = builder.Services.Where(d => d.ServiceType == typeof(IHubProtocol)).ToList();
        foreach (var descriptor in registered)
        {
            var type = descriptor.ImplementationType
                ?? throw new InvalidOperationException($"Hub protocol registration {descriptor} has no implementation type to wrap");
            builder.Services.Remove(descriptor);
            builder.Services.AddSingleton<IHubProtocol>(services => new StrictHubProtocol((IHubProtocol)ActivatorUtilities.CreateInstance(services, type)));
        }

        return builder;
    }
}
