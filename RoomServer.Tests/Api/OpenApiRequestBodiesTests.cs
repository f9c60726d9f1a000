using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using RoomShare.RoomServer.Tests.Contract;

namespace RoomShare.RoomServer.Tests.Api;

/// <summary>
/// The request bodies <c>/openapi/v1.json</c> describes are the ones the server takes (DESIGN.md §4): a field
/// the document lists as <c>required</c> is one a body may not leave out (400 <c>invalid_argument</c>), and one it
/// does not list may be left out (the request succeeds). A client generated from the document, or a gateway that
/// checks bodies against it, would otherwise refuse a body the contract allows (<c>ttlMinutes?</c>) or send one the
/// server refuses.
/// </summary>
public sealed class OpenApiRequestBodiesTests(EmbeddedContractServer server) : IClassFixture<EmbeddedContractServer>
{
    /// <summary>Each route's body with every field it has set to a valid value ({room}: a fresh room's id).</summary>
    private static readonly (string Method, string Path, string Body)[] Routes =
    [
        ("POST", "/api/rooms", """{"name":"T","menu":[{"id":"a","name":"A","priceMinor":100}],"ttlMinutes":60}"""),
        ("POST", "/api/rooms/{room}/tokens", """{"memberId":"ann","displayName":"Ann","role":"member"}"""),
        ("POST", "/api/rooms/{room}/notices", """{"kind":"eta","payload":{"minutes":5}}"""),
        ("PUT", "/api/rooms/{room}/state", """{"state":"locked"}"""),
        ("POST", "/api/announcements", """{"kind":"info","message":"hello"}"""),
    ];

    [Fact]
    public async Task EveryBodyFieldTheDocumentCallsRequiredIsRequiredAndNoOtherIs()
    {
        var document = (await server.Anonymous.GetFromJsonAsync<JsonNode>("/openapi/v1.json"))!;
        var mismatches = new List<string>();

        foreach (var (method, path, body) in Routes)
        {
            var schema = BodySchema(document, method, path);
            var required = schema["required"]?.AsArray().Select(n => n!.GetValue<string>()).ToHashSet(StringComparer.Ordinal) ?? [];
            foreach (var field in JsonNode.Parse(body)!.AsObject().Select(p => p.Key))
            {
                var without = JsonNode.Parse(body)!.AsObject();
                without.Remove(field);
                using var response = await SendAsync(method, path, without.ToJsonString());
                var accepted = response.IsSuccessStatusCode;
                if (accepted == required.Contains(field) || (!accepted && response.StatusCode != HttpStatusCode.BadRequest))
                {
                    mismatches.Add($"{method} {path} without '{field}': {(int)response.StatusCode}, the document {(required.Contains(field) ? "requires" : "does not require")} it");
                }
            }
        }

        string.Join("\n", mismatches).Should().BeEmpty("the OpenAPI document describes the bodies the server takes");
    }

    /// <summary>The (resolved) schema of an operation's JSON request body.</summary>
    private static JsonNode BodySchema(JsonNode document, string method, string path)
    {
        var schema = document["paths"]![path.Replace("{room}", "{roomId}", StringComparison.Ordinal)]![method.ToLowerInvariant()]!
            ["requestBody"]!["content"]!["application/json"]!["schema"]!;
        return schema["$ref"]?.GetValue<string>() is { } reference
            ? document["components"]!["schemas"]![reference.Split('/')[^1]]!
            : schema;
    }

    private async Task<HttpResponseMessage> SendAsync(string method, string path, string body)
    {
        if (path.Contains("{room}", StringComparison.Ordinal))
        {
            path = path.Replace("{room}", (await server.CreateRoomAsync()).Id, StringComparison.Ordinal);
        }

        using var request = new HttpRequestMessage(new HttpMethod(method), path)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        return await server.Api.SendAsync(request);
    }
}
