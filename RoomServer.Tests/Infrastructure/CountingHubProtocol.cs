using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;

namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// <see cref="JsonHubProtocol"/>, unchanged on the wire, that also tells the <see cref="HandlerBarrier"/>
/// about each invocation of a recorded target it parses (on the receive loop, so in wire order), and
/// keeps the binding failures the connection would only log (a target whose argument count changed),
/// for the test client's failure messages.
/// </summary>
internal sealed class CountingHubProtocol(IHubProtocol inner, IReadOnlyDictionary<string, int> targets, HandlerBarrier barrier) : IHubProtocol
{
    private readonly ConcurrentQueue<string> _bindingFailures = new();

    public string Name => inner.Name;

    public int Version => inner.Version;

    public TransferFormat TransferFormat => inner.TransferFormat;

    public IReadOnlyCollection<string> BindingFailures => _bindingFailures;

    public bool TryParseMessage(ref ReadOnlySequence<byte> input, IInvocationBinder binder, [NotNullWhen(true)] out HubMessage? message)
    {
        if (!inner.TryParseMessage(ref input, binder, out message))
        {
            return false;
        }

        switch (message)
        {
            case InvocationMessage invocation when targets.ContainsKey(invocation.Target):
                barrier.Parsed();
                break;
            case InvocationBindingFailureMessage failure:
                _bindingFailures.Enqueue($"'{failure.Target}': {failure.BindingFailure.SourceException.Message}");
                break;
            default:
                break;
        }

        return true;
    }

    public void WriteMessage(HubMessage message, IBufferWriter<byte> output) => inner.WriteMessage(message, output);

    public ReadOnlyMemory<byte> GetMessageBytes(HubMessage message) => inner.GetMessageBytes(message);

    public bool IsVersionSupported(int version) => inner.IsVersionSupported(version);
}
