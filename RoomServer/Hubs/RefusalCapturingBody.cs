using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace RoomShare.RoomServer.Hubs;

/// <summary>
/// A hub request's response body until its first use. Used for a refusal
/// (<see cref="HubRefusalProblems.IsRefusal"/>), it captures the few bytes SignalR writes instead of
/// sending them. Used for anything else, it hands over the server's own feature and puts it back in the
/// request's features, so the negotiate, the upgrade and the long-running transports write straight to
/// the server: nothing copied, nothing buffered.
/// </summary>
internal sealed class RefusalCapturingBody : IHttpResponseBodyFeature
{
    private readonly HttpContext _context;
    private readonly IHttpResponseBodyFeature _server;
    private IHttpResponseBodyFeature? _chosen;
    private bool _capturing;

    public RefusalCapturingBody(HttpContext context)
    {
        _context = context;
        _server = context.Features.GetRequiredFeature<IHttpResponseBodyFeature>();
        context.Features.Set<IHttpResponseBodyFeature>(this);
    }

    public Stream Stream => Chosen.Stream;

    public PipeWriter Writer => Chosen.Writer;

    private IHttpResponseBodyFeature Chosen => _chosen ??= Choose();

    public void DisableBuffering() => Chosen.DisableBuffering();

    public Task StartAsync(CancellationToken cancellationToken = default) => Chosen.StartAsync(cancellationToken);

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        Chosen.SendFileAsync(path, offset, count, cancellationToken);

    public Task CompleteAsync() => Chosen.CompleteAsync();

    /// <summary>Puts the server's feature back; returns the text of the refusal SignalR wrote, or null when it wrote none.</summary>
    public async Task<string?> ReleaseAsync()
    {
        _context.Features.Set(_server);
        if (!_capturing || _chosen is null)
        {
            return null;
        }

        await _chosen.CompleteAsync(); // flushes what SignalR left in the pipe writer
        var captured = (MemoryStream)_chosen.Stream;
        return Encoding.UTF8.GetString(captured.GetBuffer(), 0, (int)captured.Length);
    }

    private IHttpResponseBodyFeature Choose()
    {
        if (HubRefusalProblems.IsRefusal(_context.Response))
        {
            _capturing = true;
            return new StreamResponseBodyFeature(new MemoryStream());
        }

        _context.Features.Set(_server);
        return _server;
    }
}
