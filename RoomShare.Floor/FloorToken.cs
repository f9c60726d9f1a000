namespace RoomShare.Floor;

/// <summary>
/// The floor's member "token": the member id in clear, only so room events can name the writer.
/// Nothing is signed or checked; the floor is a measuring stick, never a server to expose.
/// </summary>
public static class FloorToken
{
    private const string Prefix = "floor.";

    public static string Issue(string roomId, string memberId) => $"{Prefix}{roomId}.{memberId}";

    /// <summary>The member id carried by <paramref name="token"/>, or "anonymous".</summary>
    public static string MemberOf(string? token)
    {
        if (token is null || !token.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return "anonymous";
        }

        var dot = token.IndexOf('.', Prefix.Length);
        return dot < 0 ? "anonymous" : token[(dot + 1)..];
    }
}
