namespace RoomShare.RoomServer.Tests.Infrastructure;

/// <summary>
/// Counts the server → client invocations of recorded targets twice: when the receive loop parses
/// one (<see cref="Parsed"/>) and when its handler has recorded it (<see cref="Handled"/>).
/// <see cref="Microsoft.AspNetCore.SignalR.Client.HubConnection"/> completes an invocation on its receive loop but runs <c>On</c>
/// handlers from a queue on another loop, so an invoke can return before the handlers of the events
/// the server sent ahead of its result have run. Waiting on <see cref="CaughtUpAsync"/> after an
/// invoke restores the wire's order for the test: everything sent before the result is recorded.
/// </summary>
internal sealed class HandlerBarrier
{
    private readonly Lock _gate = new();
    private readonly List<(long Count, TaskCompletionSource Done)> _waiters = [];
    private long _parsed;
    private long _handled;

    public void Parsed()
    {
        lock (_gate)
        {
            _parsed++;
        }
    }

    public void Handled()
    {
        List<TaskCompletionSource> ready = [];
        lock (_gate)
        {
            _handled++;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Count <= _handled)
                {
                    ready.Add(_waiters[i].Done);
                    _waiters.RemoveAt(i);
                }
            }
        }

        foreach (var done in ready)
        {
            done.TrySetResult();
        }
    }

    /// <summary>Completes once every invocation parsed so far has been handled (later ones are not waited for).</summary>
    public Task CaughtUpAsync()
    {
        lock (_gate)
        {
            if (_handled >= _parsed)
            {
                return Task.CompletedTask;
            }

            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((_parsed, done));
            return done.Task;
        }
    }

    public string Describe()
    {
        lock (_gate)
        {
            return $"{_handled} of {_parsed} parsed invocations handled";
        }
    }
}
