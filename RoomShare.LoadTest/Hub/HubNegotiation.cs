using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace RoomShare.LoadTest.Hub;

/// <summary>
/// SignalR's negotiate as the reference web client sends it (the JavaScript client's default, with
/// <c>withStatefulReconnect()</c>): <c>POST {hub}/negotiate?negotiateVersion=1&amp;useStatefulReconnect=true</c>,
/// the member token as a bearer header and the room hint as on the connect. The answer's connection token
/// then opens the WebSocket (<c>id=</c>), on the replica the negotiate reached (nginx hashes both the same).
/// </summary>
public static class HubNegotiation
{
    /// <summary>The connection token the WebSocket names, and whether the server turned stateful reconnect on.</summary>
    public sealed record Negotiated(string ConnectionToken, bool StatefulReconnect);

    public static async Task<Negotiated> NegotiateAsync(Uri hubUri, string token, string? room, HttpMessageInvoker invoker, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, NegotiateUri(hubUri, room)) { Content = new ByteArrayContent([]) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await invoker.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var text = Encoding.UTF8.GetString(body);
            throw new HttpRequestException($"negotiate → {(int)response.StatusCode}: {text[..Math.Min(200, text.Length)]}");
        }

        return Read(body);
    }

    /// <summary>
    /// <c>{hub}/negotiate?negotiateVersion=1&amp;useStatefulReconnect=true</c> over HTTP(S) for a <c>ws</c>/<c>wss</c> hub
    /// URL, with the room hint (escaped) as the connect carries it.
    /// </summary>
    public static Uri NegotiateUri(Uri hubUri, string? room)
    {
        var roomQuery = room is null ? "" : "&room=" + Uri.EscapeDataString(room);
        return new UriBuilder(hubUri)
        {
            Scheme = hubUri.Scheme == "wss" ? "https" : "http",
            Path = hubUri.AbsolutePath.TrimEnd('/') + "/negotiate",
            Query = "negotiateVersion=1&useStatefulReconnect=true" + roomQuery,
        }.Uri;
    }

    /// <summary>
    /// Reads a negotiate answer (version 1: <c>connectionToken</c>); a refusal (<c>error</c>) or an answer without a
    /// token throws, as the JavaScript client fails its start.
    /// </summary>
    public static Negotiated Read(ReadOnlySpan<byte> body)
    {
        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(body);
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException("the negotiate answer is not JSON: " + ex.Message, ex);
        }

        using var parsed = document;
        var root = parsed.RootElement;
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("the negotiate answer is not a JSON object");
        }

        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.String)
        {
            throw new InvalidDataException($"negotiate refused: {error.GetString()}");
        }

        if (!root.TryGetProperty("connectionToken", out var connectionToken) || connectionToken.ValueKind != JsonValueKind.String
            || string.IsNullOrEmpty(connectionToken.GetString()))
        {
            throw new InvalidDataException("the negotiate answer has no connectionToken (negotiateVersion 1)");
        }

        var stateful = root.TryGetProperty("useStatefulReconnect", out var flag) && flag.ValueKind == JsonValueKind.True;
        return new Negotiated(connectionToken.GetString()!, stateful);
    }
}
