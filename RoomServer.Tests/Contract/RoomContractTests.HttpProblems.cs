using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Tests.Contract;

/// <summary>
/// Every error the HTTP edge answers is application/problem+json with a §5 code — the framework's
/// own answers too (routing, body reading, authentication), whatever the client accepts.
/// </summary>
public abstract partial class RoomContractTests
{
    public static TheoryData<string, string, string?, string?, int, string> FrameworkErrors => new()
    {
        // method, path, content type, body, status, code
        { "GET", "/api/no-such-route", null, null, 404, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms/x/y/z", "application/json", "{}", 404, RoomErrorCodes.InvalidArgument },
        { "GET", "/no-such-page", null, null, 404, RoomErrorCodes.InvalidArgument },
        { "PATCH", "/api/rooms", "application/json", "{}", 405, RoomErrorCodes.InvalidArgument },
        { "GET", "/api/announcements", null, null, 405, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "text/plain", "name=x", 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", null, null, 400, RoomErrorCodes.InvalidArgument },
        { "PUT", "/api/rooms/NoSuchRoom/state", "application/x-www-form-urlencoded", "state=locked", 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json", """{"name":5}""", 400, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json", "{\"name\":", 400, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json; charset=bogus", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json; charset=\"no-such-encoding\"", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json; charset=latin1", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json; charset=\"utf-16\"", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/announcements", "application/json; charset=bogus", "{\"kind\":\"maintenance\",\"message\":\"hi\"}", 415, RoomErrorCodes.InvalidArgument },
        // A charset the runtime knows is no better: the reader would transcode it and replace what does not convert.
        { "POST", "/api/rooms", "application/json; charset=iso-8859-1", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json; charset=us-ascii", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json; charset=utf-16", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        // A charset parameter that names nothing: the framework's reader threw on the empty one (a 500 unavailable).
        { "POST", "/api/rooms", "application/json; charset=", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json; charset=;", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json; charset", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", null, ValidRoom, 415, RoomErrorCodes.InvalidArgument }, // a body without a Content-Type
        // A second charset: the framework would read the first alone, so a check of the first alone let the second through.
        { "POST", "/api/rooms", "application/json; charset=utf-8; charset=bogus", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json; charset=utf-8; charset=iso-8859-1", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json; charset=iso-8859-1; charset=utf-8", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "POST", "/api/rooms", "application/json; charset=utf-8; CHARSET=utf8", ValidRoom, 415, RoomErrorCodes.InvalidArgument },
        { "GET", "/api/no-such-route", "application/json; charset=bogus", "", 404, RoomErrorCodes.InvalidArgument }, // no body: the charset is not read
        { "POST", "/api/no-such-route", "application/json; charset=iso-8859-1", "{}", 404, RoomErrorCodes.InvalidArgument }, // no route reads it
        { "PATCH", "/api/rooms", "application/json; charset=iso-8859-1", "{}", 405, RoomErrorCodes.InvalidArgument },
        { "DELETE", "/api/rooms/NoSuchRoom", "application/json; charset=iso-8859-1", "{}", 404, RoomErrorCodes.RoomNotFound }, // a route that reads no body
        // The routes beside the API: no document by another name, and /metrics takes GET only (§4).
        { "GET", "/openapi/v2.json", null, null, 404, RoomErrorCodes.InvalidArgument },
        { "POST", "/metrics", "application/json", "{}", 405, RoomErrorCodes.InvalidArgument },
        { "DELETE", "/metrics", null, null, 405, RoomErrorCodes.InvalidArgument },
    };

    private const string ValidRoom = "{\"name\":\"T\",\"menu\":[{\"id\":\"a\",\"name\":\"A\",\"priceMinor\":100}]}";

    [Theory]
    [MemberData(nameof(FrameworkErrors))]
    public async Task TheFrameworksOwnErrorsAreProblemsWithACode(string method, string path, string? contentType, string? body, int status, string code)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            // As written, unparsed: some of these (an empty charset) are not valid headers to the client either.
            request.Content.Headers.ContentType = null;
            if (contentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType).Should().BeTrue();
            }
        }

        using var response = await Server.Api.SendAsync(request);

        ((int)response.StatusCode).Should().Be(status);
        response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
        var problem = (await response.Content.ReadFromJsonAsync<ProblemBody>())!;
        problem.Code.Should().Be(code);
        problem.Status.Should().Be(status);
        if (status == 405)
        {
            response.Content.Headers.Allow.Should().NotBeEmpty("a 405 names the methods the route takes");
        }
    }

    /// <summary>UTF-8 by its usual names (DESIGN §5): any case, with or without the hyphen, quoted or not.</summary>
    [Theory]
    [InlineData("application/json; charset=utf-8")]
    [InlineData("application/json; charset=UTF-8")]
    [InlineData("application/json; charset=utf8")]
    [InlineData("application/json; charset=UTF8")]
    [InlineData("application/json; charset=\"utf-8\"")]
    [InlineData("application/json; charset=\"Utf8\"")]
    [InlineData("application/json;charset=utf8")]
    public async Task AJsonBodyInUtf8ByAnyOfItsNamesIsRead(string contentType)
    {
        using var content = new StringContent("{\"name\":\"Café ☕\",\"menu\":[{\"id\":\"a\",\"name\":\"A\",\"priceMinor\":100}]}", Encoding.UTF8);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);

        using var response = await Server.Api.PostAsync("/api/rooms", content);

        response.StatusCode.Should().Be(System.Net.HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var created = (await response.Content.ReadFromJsonAsync<RoomShare.RoomServer.Api.RoomCreatedResponse>(ContractServer.Json))!;
        (await Server.SnapshotAsync(new TestRoom(created.RoomId, created.Epoch))).Name.Should().Be("Café ☕", "the body was read as UTF-8");
    }

    [Fact]
    public async Task ABindFailureNamesWhereTheJsonWentWrongNotATypeName()
    {
        using var content = new StringContent("""{"name":"T","menu":[{"id":"a","name":"A","priceMinor":"free"}]}""", Encoding.UTF8, "application/json");

        using var response = await Server.Api.PostAsync("/api/rooms", content);

        var problem = (await response.Content.ReadFromJsonAsync<ProblemBody>())!;
        problem.Code.Should().Be(RoomErrorCodes.InvalidArgument);
        problem.Detail.Should().Contain("$.menu[0].priceMinor").And.NotContain("RoomShare.");
    }

    [Fact]
    public async Task AQueryThatFailsToBindOrAMissingBodyNamesTheParameterNotATypeName()
    {
        var room = await Server.CreateRoomAsync();
        using var twoValues = await Server.Api.GetAsync($"/api/rooms/{room.Id}/events?from=1&from=2");
        using var noBody = new StringContent("", Encoding.UTF8, "application/json");
        using var emptyBody = await Server.Api.PostAsync("/api/rooms", noBody);

        var query = (await twoValues.Content.ReadFromJsonAsync<ProblemBody>())!;
        query.Code.Should().Be(RoomErrorCodes.InvalidArgument);
        query.Detail.Should().Be("'from' must be a single value of the right kind, not \"1,2\"");
        var body = (await emptyBody.Content.ReadFromJsonAsync<ProblemBody>())!;
        body.Code.Should().Be(RoomErrorCodes.InvalidArgument);
        body.Detail.Should().NotContain("Service").And.NotContain("Implicit").And.NotContain("RoomShare.");
    }

    [Fact]
    public async Task AMissingOrWrongCredentialIsA401ProblemAndAnotherRoomsTokenA403()
    {
        var room = await Server.CreateRoomAsync();
        var other = await Server.CreateRoomAsync();
        using var wrongKey = new HttpRequestMessage(HttpMethod.Get, $"/api/rooms/{room.Id}");
        wrongKey.Headers.Add("X-Api-Key", "not-the-key-0123456789");
        using var otherRoomsToken = new HttpRequestMessage(HttpMethod.Get, $"/api/rooms/{room.Id}");
        otherRoomsToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await Server.TokenAsync(other, "ann"));

        using var anonymous = await Server.Anonymous.GetAsync($"/api/rooms/{room.Id}");
        using var wrong = await Server.Anonymous.SendAsync(wrongKey);
        using var forbidden = await Server.Anonymous.SendAsync(otherRoomsToken);
        using var negotiate = await Server.Anonymous.PostAsync("/hubs/room/negotiate?negotiateVersion=1", null);

        foreach (var (response, status, code) in new[]
        {
            (anonymous, 401, RoomErrorCodes.Unauthorized),
            (wrong, 401, RoomErrorCodes.Unauthorized),
            (forbidden, 403, RoomErrorCodes.Forbidden),
            (negotiate, 401, RoomErrorCodes.Unauthorized),
        })
        {
            ((int)response.StatusCode).Should().Be(status);
            response.Content.Headers.ContentType!.MediaType.Should().Be("application/problem+json");
            (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be(code);
        }
    }
}
