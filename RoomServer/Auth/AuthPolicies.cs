namespace RoomShare.RoomServer.Auth;

public static class AuthPolicies
{
    /// <summary>Server-to-server calls: a valid <c>X-Api-Key</c> (a valid member token instead is <c>forbidden</c>, not <c>unauthorized</c>).</summary>
    public const string ApiKey = "ApiKey";

    /// <summary>An API key, or a member token whose room claim is the route's room.</summary>
    public const string RoomReader = "RoomReader";

    /// <summary>A member token (the hub); the room claim is checked on every call.</summary>
    public const string Member = "Member";
}
