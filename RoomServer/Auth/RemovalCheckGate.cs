using Microsoft.AspNetCore.Authorization;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Auth;

/// <summary>
/// A member token is refused once its member was removed after it was issued (its <c>rgen</c>, DESIGN.md §3),
/// checked against the store when the token is validated. When the store cannot answer, the hub admits the
/// connection (every room script checks the removal again, so a removed member still gets nothing) — but
/// the HTTP API's member reads (the room, its audit trail) have no such second check, so there the request
/// answers <c>unavailable</c> (retry) instead of handing a removed member the room.
/// </summary>
public static class RemovalCheckGate
{
    private const string UncheckedItem = "roomshare.removal-unchecked";

    /// <summary>Called when the lookup failed: outside the hub, the request is refused by <see cref="UseRemovalCheckGate"/>.</summary>
    internal static void MarkUnchecked(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/hubs"))
        {
            context.Items[UncheckedItem] = true;
        }
    }

    /// <summary>
    /// After authentication and authorization: a member read (<see cref="AuthPolicies.RoomReader"/>) whose
    /// member token could not be checked goes no further — unless the caller came with an API key as well.
    /// Other endpoints (health, metrics, API-key only) do not read the room as that member.
    /// </summary>
    /// <remarks>Not async: see <see cref="Hubs.DrainGate.UseDrainGate"/>.</remarks>
    public static IApplicationBuilder UseRemovalCheckGate(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (context.Items.ContainsKey(UncheckedItem)
            && !RoomClaims.IsApiCaller(context.User)
            && context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Any(a => a.Policy == AuthPolicies.RoomReader) == true)
        {
            throw RoomException.Unavailable("could not check with the store whether this member was removed from the room; retry");
        }

        return next(context);
    });
}
