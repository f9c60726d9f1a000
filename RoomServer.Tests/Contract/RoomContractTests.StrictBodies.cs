using System.Net;
using System.Net.Http.Json;
using System.Text;

namespace RoomShare.RoomServer.Tests.Contract;

public abstract partial class RoomContractTests
{
    public static TheoryData<string, string, string> LooseBodies => new()
    {
        { "a number sent as a string", "/api/rooms", """{"name":"T","menu":[{"id":"a","name":"A","priceMinor":"1150"}]}""" },
        { "ttlMinutes sent as a string", "/api/rooms", """{"name":"T","menu":[{"id":"a","name":"A","priceMinor":1}],"ttlMinutes":"60"}""" },
        { "a misspelt field (ttl for ttlMinutes)", "/api/rooms", """{"name":"T","menu":[{"id":"a","name":"A","priceMinor":1}],"ttl":60}""" },
        { "a field in another case", "/api/rooms", """{"NAME":"T","menu":[{"id":"a","name":"A","priceMinor":1}]}""" },
        { "a duplicate key", "/api/rooms", """{"name":"T","name":"U","menu":[{"id":"a","name":"A","priceMinor":1}]}""" },
        { "a misspelt role (rol), which would give a member token", "/api/rooms/{room}/tokens", """{"memberId":"ann","displayName":"Ann","rol":"owner"}""" },
        { "a duplicate role", "/api/rooms/{room}/tokens", """{"memberId":"ann","displayName":"Ann","role":"member","role":"owner"}""" },
        { "a room name that is not text (a lone surrogate)", "/api/rooms", """{"name":"T\ud800","menu":[{"id":"a","name":"A","priceMinor":1}]}""" },
        { "a display name that is not text (a lone surrogate)", "/api/rooms/{room}/tokens", """{"memberId":"ann","displayName":"\udc00"}""" },
    };

    /// <summary>Bodies are read as written: no guessing at a loose shape (DESIGN §5: a clear error, nothing half-applied).</summary>
    [Theory]
    [MemberData(nameof(LooseBodies))]
    public async Task ABodyWithALooseShapeIsA400InvalidArgument(string why, string path, string body)
    {
        if (path.Contains("{room}", StringComparison.Ordinal))
        {
            path = path.Replace("{room}", (await Server.CreateRoomAsync()).Id, StringComparison.Ordinal);
        }

        using var content = new StringContent(body, Encoding.UTF8, "application/json");

        using var response = await Server.Api.PostAsync(path, content);

        response.StatusCode.Should().Be(HttpStatusCode.BadRequest, why);
        (await response.Content.ReadFromJsonAsync<ProblemBody>())!.Code.Should().Be("invalid_argument", why);
    }
}
