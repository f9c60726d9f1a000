using System.IO.Pipelines;
using System.Security.Claims;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Protocol;
using Microsoft.Extensions.Logging.Abstractions;
using RoomShare.RoomServer.Fanout;

namespace RoomShare.RoomServer.Tests.Units;

/// <summary>
/// A connection being dropped is written nothing more (DESIGN.md §9 "Slow consumers"): once it is marked evicted, or
/// its connection is aborted, a room message is neither queued behind its close nor counted as delivered
/// (<c>roomshare_deliveries_total</c> counts the writes <see cref="MemberConnection.TryWrite"/> starts).
/// </summary>
public sealed class MemberConnectionTests
{
    private static readonly SerializedHubMessage Message = new(new InvocationMessage("RoomEvent", []));

    [Fact]
    public void AnEvictedConnectionIsWrittenNothingMore()
    {
        var member = Admitted(out _);
        member.TryWrite("r1", Message, counted: true, out _, out _).Should().BeTrue("an admitted connection is written to");

        member.TryMarkEvicted().Should().BeTrue();
        member.TryWrite("r1", Message, counted: true, out _, out _).Should().BeFalse("a connection dropped to a resync gets nothing more");
    }

    [Fact]
    public async Task AnAbortedConnectionIsWrittenNothingMore()
    {
        var member = Admitted(out var connection);
        connection.Abort();

        // SignalR cancels ConnectionAborted on the thread pool, a moment after Abort.
        var aborted = new TaskCompletionSource();
        using var registration = connection.ConnectionAborted.Register(aborted.SetResult);
        await aborted.Task.WaitAsync(TimeSpan.FromSeconds(10));
        member.TryWrite("r1", Message, counted: true, out _, out _).Should().BeFalse("a connection on its way out gets nothing more");
    }

    [Fact]
    public void WhatWasKeptForAJoinIsNotWrittenOnceTheConnectionWasDropped()
    {
        var member = new MemberConnection(Connection());
        member.Enter("r1", "m1", 0);
        member.TryWrite("r1", Message, counted: true, out _, out var held).Should().BeFalse("kept until the Join is admitted");
        held.Should().BeGreaterThan(0);

        member.TryMarkEvicted().Should().BeTrue();
        var written = 0;
        member.Admit("r1", _ => written++).Should().Be(0, "nothing kept is counted as delivered");
        written.Should().Be(0, "nothing kept is written to a dropped connection");
    }

    private static MemberConnection Admitted(out HubConnectionContext connection)
    {
        connection = Connection();
        var member = new MemberConnection(connection);
        member.Enter("r1", "m1", 0);
        member.Admit("r1", _ => { });
        return member;
    }

    private static HubConnectionContext Connection()
    {
        var context = new DefaultConnectionContext("c1", new Pipes(new Pipe().Reader, new Pipe().Writer), new Pipes(new Pipe().Reader, new Pipe().Writer))
        {
            User = new ClaimsPrincipal(new ClaimsIdentity([], "test")),
        };
        return new HubConnectionContext(context, new HubConnectionContextOptions(), NullLoggerFactory.Instance) { Protocol = new JsonHubProtocol() };
    }

    private sealed record Pipes(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
