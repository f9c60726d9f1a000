using RoomShare.RoomServer.Rooms;
using RoomShare.RoomServer.Tests.Contract;
using RoomShare.RoomServer.Tests.Infrastructure;

namespace RoomShare.RoomServer.Tests.Cluster;

/// <summary>
/// A member that keeps changing choices (SetChoice with an opId, every call a real change) until told
/// to stop, with a hard cap on the count. Records every outcome, acknowledged or rejected, and whether
/// the call started after <see cref="MarkOutage"/> — what the failover and outage tests reason about.
/// </summary>
public sealed class WriterLoop
{
    private readonly HubTestClient _client;
    private readonly TestRoom _room;
    private readonly string _memberId;
    private readonly string _menuId;
    private readonly int _maxWrites;
    private readonly TimeSpan _pacing;
    private readonly List<WriteOutcome> _outcomes = [];
    private readonly TaskCompletionSource _flowing = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _flowingAfter;
    private readonly bool _retryUnavailableOnce;
    private Func<IReadOnlyList<WriteOutcome>, bool> _stopWhen = _ => false;
    private volatile bool _outage;

    // retryUnavailableOnce: a call answered `unavailable` is sent once more at once, with its opId, as DESIGN.md §5
    // tells a client to; its outcome is the retry's, with WriteOutcome.FirstAnswer set. Off: every outcome is one call's.
    public WriterLoop(HubTestClient client, TestRoom room, string memberId, string menuId, int maxWrites, TimeSpan pacing, int flowingAfter = 10, bool retryUnavailableOnce = false)
    {
        _client = client;
        _room = room;
        _memberId = memberId;
        _menuId = menuId;
        _maxWrites = maxWrites;
        _pacing = pacing;
        _flowingAfter = flowingAfter;
        _retryUnavailableOnce = retryUnavailableOnce;
    }

    /// <summary>Completes once <c>flowingAfter</c> writes were acknowledged.</summary>
    public Task Flowing => _flowing.Task;

    public IReadOnlyList<WriteOutcome> Outcomes
    {
        get
        {
            lock (_outcomes)
            {
                return [.. _outcomes];
            }
        }
    }

    public int Acknowledged => Outcomes.Count(o => o.Ack is not null);

    /// <summary>Calls started from now on are marked <see cref="WriteOutcome.AfterOutage"/>.</summary>
    public void MarkOutage() => _outage = true;

    /// <summary>The loop ends (after its current call) once <paramref name="condition"/> holds for the outcomes so far.</summary>
    public void StopWhen(Func<IReadOnlyList<WriteOutcome>, bool> condition) => Volatile.Write(ref _stopWhen, condition);

    public Task RunAsync() => Task.Run(async () =>
    {
        // Bounded by _maxWrites; the pacing only spreads the writes over time (a steady stream of
        // changes for the failure to hit), it waits for nothing.
        for (var i = 0; i < _maxWrites && !Volatile.Read(ref _stopWhen)(Outcomes); i++)
        {
            var opId = $"{_memberId}-w{i}";
            var quantity = (i % 9) + 1; // consecutive values differ: every write is a change
            var afterOutage = _outage;
            WriteOutcome outcome;
            string? firstAnswer = null;
            try
            {
                ChoiceAck ack;
                try
                {
                    ack = await _client.SetChoiceAsync(_room, _menuId, quantity, opId);
                }
                catch (HubErrorException ex) when (_retryUnavailableOnce && ex.Code == RoomErrorCodes.Unavailable)
                {
                    firstAnswer = ex.Code;
                    ack = await _client.SetChoiceAsync(_room, _menuId, quantity, opId);
                }

                outcome = new WriteOutcome(_memberId, _menuId, opId, quantity, afterOutage, ack, null) { FirstAnswer = firstAnswer };
            }
            catch (HubErrorException ex)
            {
                outcome = new WriteOutcome(_memberId, _menuId, opId, quantity, afterOutage, null, ex.Code) { FirstAnswer = firstAnswer };
            }
            catch (TimeoutException)
            {
                outcome = new WriteOutcome(_memberId, _menuId, opId, quantity, afterOutage, null, "client-timeout") { FirstAnswer = firstAnswer };
            }

            lock (_outcomes)
            {
                _outcomes.Add(outcome);
            }

            if (Acknowledged >= _flowingAfter)
            {
                _flowing.TrySetResult();
            }

            await Task.Delay(_pacing);
        }

        _flowing.TrySetResult();
    });
}

/// <summary>One write of a <see cref="WriterLoop"/>: its ack, or the error code it failed with.</summary>
public sealed record WriteOutcome(string MemberId, string MenuId, string OpId, int Quantity, bool AfterOutage, ChoiceAck? Ack, string? ErrorCode)
{
    /// <summary>What the first call answered when the write was sent again with its opId (<c>retryUnavailableOnce</c>); else null.</summary>
    public string? FirstAnswer { get; init; }
}
