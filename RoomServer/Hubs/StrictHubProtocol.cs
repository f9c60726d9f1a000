using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.ExceptionServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using RoomShare.RoomServer.Metrics;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// Wraps a hub protocol so what it cannot parse or bind follows DESIGN.md §5.
/// <para>
/// A message of a type it does not know is refused, not skipped. SignalR's protocols parse such a
/// record and return "no message" (room for future types), but with a maximum message size set the
/// connection handler reads "no message" as "not enough data yet", keeps the record in its buffer
/// and waits: the connection answers nothing more and stays open (found by the chaos battery's fuzz
/// loop: <c>{"type":41}</c>). Throwing instead makes the handler close the connection with the
/// reason logged — §5's rule for a malformed frame.
/// </para>
/// <para>
/// A call SignalR cannot bind — an unknown method, or the wrong number of arguments (a client that
/// leaves out an optional <c>opId</c>) — never reaches the hub's filter, and SignalR answers it
/// "Failed to invoke 'X' due to an error on the server." with no code. The binding failure is
/// replaced by a <see cref="HubException"/> carrying <c>invalid_argument</c>, which SignalR appends
/// as "HubException: invalid_argument: …" (where clients read every code); the connection stays open.
/// A streaming invocation, or one carrying client streams, is refused the same way: no hub method streams.
/// So is a JSON invocation nested deeper than SignalR's reader takes (<see cref="DeepJsonInvocation"/>), which SignalR would
/// close the connection for, as if it were not JSON.
/// Each such refusal is counted in <c>roomshare_errors_total</c> here, since the hub's filter never sees it
/// (a call a stateful reconnect resends is parsed, so counted, again before SignalR drops the duplicate).
/// </para>
/// </summary>
public sealed class StrictHubProtocol(IHubProtocol inner, RoomMetrics metrics) : IHubProtocol
{
    /// <summary>The method name is the client's: echoed back, but not at any length.</summary>
    private const int MaxEchoedTargetLength = 100;

    public string Name => inner.Name;

    public int Version => inner.Version;

    public TransferFormat TransferFormat => inner.TransferFormat;

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        var before = input.Length;
        var unread = input; // the JSON protocol takes the record off the input before it parses it
        bool parsed;
        try
        {
            parsed = inner.TryParseMessage(ref input, binder, out message);
        }
        catch (InvalidDataException) when (TransferFormat == TransferFormat.Text && DeepJsonInvocation.TryRead(ref unread, out var id, out var deepTarget))
        {
            input = unread;
            metrics.Error(RoomErrorCodes.InvalidArgument, "hub");
            message = Refused(id, deepTarget, "an argument nested deeper than 64 levels.");
            return true;
        }

        if (!parsed)
        {
            // Bytes consumed without a message: a whole record of an unknown type, not a partial one.
            return input.Length == before
                ? false
                : throw new InvalidDataException("a message of an unknown type");
        }

        var original = message!;
        message = original switch
        {
            InvocationBindingFailureMessage failure => WithCode(failure),

            // No hub method streams, in or out: SignalR would refuse these itself, before the hub's
            // filters (so outside the call budget too), with no code.
            StreamInvocationMessage stream => Refused(stream, "a streaming invocation; no hub method streams."),
            InvocationMessage { StreamIds.Length: > 0 } streaming => Refused(streaming, "an invocation with client streams; no hub method takes a stream."),
            _ => original,
        };
        if (!ReferenceEquals(message, original))
        {
            metrics.Error(RoomErrorCodes.InvalidArgument, "hub");
        }

        return true;
    }

    private static InvocationBindingFailureMessage Refused(HubMethodInvocationMessage invocation, string reason)
    {
        var refused = Refused(invocation.InvocationId, invocation.Target, reason);
        refused.Headers = invocation.Headers;
        return refused;
    }

    private static InvocationBindingFailureMessage Refused(string? invocationId, string target, string reason)
    {
        var echoed = Echoed(target);
        var coded = new HubException($"{RoomErrorCodes.InvalidArgument}: {echoed}: {reason}");
        return new InvocationBindingFailureMessage(invocationId, echoed, ExceptionDispatchInfo.Capture(coded));
    }

    private static string Echoed(string target) => target.Length <= MaxEchoedTargetLength ? target : target[..MaxEchoedTargetLength] + "…";

    private static InvocationBindingFailureMessage WithCode(InvocationBindingFailureMessage failure)
    {
        var target = Echoed(failure.Target);
        var reason = failure.BindingFailure.SourceException switch
        {
            HubException or InvalidDataException => Reason(failure.BindingFailure.SourceException),
            _ => "the arguments do not fit the method. Pass every argument, null where optional.",
        };
        var coded = new HubException($"{RoomErrorCodes.InvalidArgument}: {target}: {reason}");
        // The shortened name as the target too: SignalR's own prefix ("Failed to invoke '…'") repeats it.
        return new InvocationBindingFailureMessage(failure.InvocationId, target, ExceptionDispatchInfo.Capture(coded))
        {
            Headers = failure.Headers,
        };
    }

    /// <summary>
    /// The binder's own words for a call of the wrong shape ("Method does not exist.", "Invocation provides 3
    /// argument(s) but target expects 4."). A value the protocol refused is named by its cause, the innermost error
    /// (MessagePack's reader, or JsonMessagePack's: "a MessagePack string that is not UTF-8 text"), after the binder's
    /// first sentence ("Error binding arguments"): its second, about matching types, would mislead.
    /// </summary>
    private static string Reason(Exception failure)
    {
        var cause = failure;
        while (cause.InnerException is { } inner)
        {
            cause = inner;
        }

        if (ReferenceEquals(cause, failure))
        {
            return failure.Message + " Pass every argument, null where optional.";
        }

        var which = failure.Message.Split(". ", 2)[0].TrimEnd('.');
        return $"{which}: {cause.Message.TrimEnd('.')}.";
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
            builder.Services.AddSingleton<IHubProtocol>(services => new StrictHubProtocol((IHubProtocol)ActivatorUtilities.CreateInstance(services, type), services.GetRequiredService<RoomMetrics>()));
        }

        return builder;
    }
}
