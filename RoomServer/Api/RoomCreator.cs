using Microsoft.Extensions.Options;
using RoomShare.RoomServer.Configuration;
using RoomShare.RoomServer.Rooms;

namespace RoomShare.RoomServer.Api;

/// <summary>
/// Creates rooms with fresh random ids (the API and the development demo both use it), and keeps the
/// count of each API key's live rooms (<see cref="IRoomsPerApiKey"/>): a place is reserved before the
/// room is created and given back when the room is deleted or was certainly not created.
/// </summary>
public sealed class RoomCreator(
    IRoomStore store, IRoomsPerApiKey keyRooms, IIdempotencyRecords records, IOptions<RoomServerOptions> options, TimeProvider time, ILogger<RoomCreator> logger)
{
    /// <param name="request">The body of <c>POST /api/rooms</c>, validated here.</param>
    /// <param name="apiKeyId">The creating key (Api/ApiKeyIds), or null for the development demo.</param>
    /// <param name="idempotencyKey">The request's valid <c>Idempotency-Key</c> (with an API key), or null.</param>
    /// <param name="cancellationToken">The request's.</param>
    public async Task<RoomCreatedResponse> CreateAsync(CreateRoomRequest request, string? apiKeyId, string? idempotencyKey, CancellationToken cancellationToken)
    {
        var (name, menu, ttl) = RoomRequests.ValidateRoom(request, options.Value);
        if (apiKeyId is not null && idempotencyKey is not null)
        {
            var key = new IdempotencyKey(apiKeyId, idempotencyKey, IdempotencyKey.Hash(RequestFields(name, menu, request.TtlMinutes)));
            return await CreateOnceAsync(key, name, menu, ttl, cancellationToken);
        }

        var maxRooms = options.Value.Limits.MaxRoomsPerApiKey;

        // A collision of ~95-bit random ids is all but impossible; retrying keeps it harmless anyway.
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var room = new NewRoom(RoomIds.NewRoomId(), RoomIds.NewEpoch(), name, menu, ttl, time.Stamp());
            if (apiKeyId is not null && !await TryReserveAsync(apiKeyId, room, ttl, maxRooms, cancellationToken))
            {
                throw IRoomsPerApiKey.AtLimit(maxRooms);
            }

            // A create that throws (unavailable: its outcome unknown) keeps its place: the room may exist,
            // and a place given back for a room that does would let the key past its limit. The prune
            // gives it back once its expiry has passed and the room is not there. One refused before
            // anything reached the store (a deaf replica) certainly made no room: its place goes back.
            bool created;
            try
            {
                created = await store.CreateAsync(room, cancellationToken);
            }
            catch (RoomException ex) when (ex.NothingSent && apiKeyId is not null)
            {
                await ForgetAsync(apiKeyId, room.RoomId, "the replica refused it before sending");
                throw;
            }

            if (created)
            {
                return new RoomCreatedResponse(room.RoomId, room.Epoch);
            }

            if (apiKeyId is not null)
            {
                await ForgetAsync(apiKeyId, room.RoomId, "its id was taken");
            }
        }

        throw RoomException.Unavailable("could not allocate a room id");
    }

    /// <summary>
    /// A room for an <c>Idempotency-Key</c>. Its id and epoch are drawn and recorded under the key first (on
    /// the API key's slot), then the room is made with exactly them by a create that runs once per id and
    /// epoch (<see cref="IRoomStore.CreateOnceAsync"/>, on the room's slot). A retry — after a crash between
    /// the two, or an answer lost after both — finds the record and makes (or finds) the same room, so the
    /// two steps need no common slot. A record whose room id turned out taken is replaced by a new draw.
    /// </summary>
    private async Task<RoomCreatedResponse> CreateOnceAsync(
        IdempotencyKey key, string name, IReadOnlyList<MenuItem> menu, TimeSpan ttl, CancellationToken cancellationToken)
    {
        var maxRooms = options.Value.Limits.MaxRoomsPerApiKey;
        string? taken = null;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var drawn = RoomIds.NewRoomId() + " " + RoomIds.NewEpoch();
            var recorded = (await records.ClaimAsync(IdempotencyScope.Rooms, key, drawn, taken, cancellationToken)).ValueFor(key);
            var ids = recorded.Split(' ');
            var room = new NewRoom(RoomIds.RequireRoomId(ids[0]), ids[1], name, menu, ttl, time.Stamp());

            // A retry (the key held a record already) first asks for the room made for it: answering that needs
            // no place, so a key at its limit whose room was deleted since still gets the first answer.
            if (recorded != drawn && await ReplayAsync(key, room, cancellationToken) is { } earlier)
            {
                return earlier;
            }

            // Reserved again on a retry: a room the key holds already is not counted twice (IRoomsPerApiKey).
            if (!await keyRooms.TryReserveAsync(key.CallerId, room.RoomId, time.GetUtcNow() + ttl, maxRooms, cancellationToken))
            {
                throw IRoomsPerApiKey.AtLimit(maxRooms);
            }

            // A create refused before sending keeps its place (unlike one without a key): this request made
            // nothing, but another with the key (a retry running alongside) may have made this very room, and
            // forgetting it would leave that room uncounted. A retry reuses the place; the prune gives it back
            // once its expiry passed and no room is there.
            var outcome = await store.CreateOnceAsync(room, replayOnly: false, cancellationToken);

            switch (outcome)
            {
                case RoomCreation.Created or RoomCreation.Exists:
                    return new RoomCreatedResponse(room.RoomId, room.Epoch);
                case RoomCreation.Gone:
                    await ForgetAsync(key.CallerId, room.RoomId, "created under its Idempotency-Key and gone since");
                    return new RoomCreatedResponse(room.RoomId, room.Epoch);
                case RoomCreation.Taken:
                    await ForgetAsync(key.CallerId, room.RoomId, "its id was taken");
                    taken = recorded;
                    break;
                default:
                    throw new InvalidOperationException($"create once answered {outcome}");
            }
        }

        throw RoomException.Unavailable("could not allocate a room id");
    }

    /// <summary>
    /// The first answer for the key's recorded room, if it was made: the recorded id and epoch (a failover may
    /// have renewed the room's epoch since; the answer stays the first one). Null if it never was.
    /// </summary>
    private async Task<RoomCreatedResponse?> ReplayAsync(IdempotencyKey key, NewRoom room, CancellationToken cancellationToken)
    {
        switch (await store.CreateOnceAsync(room, replayOnly: true, cancellationToken))
        {
            case RoomCreation.Exists:
                // Counted again, without the limit check (a set add): a request with the key running alongside
                // may have forgotten this room (its create taken for never made), and nothing else re-adds it.
                await HoldAsync(key.CallerId, room.RoomId, room.Ttl, cancellationToken);
                return new RoomCreatedResponse(room.RoomId, room.Epoch);
            case RoomCreation.Gone:
                // The first answer stands; the room it names was deleted or expired since, and holds no place.
                await ForgetAsync(key.CallerId, room.RoomId, "created under its Idempotency-Key and gone since");
                return new RoomCreatedResponse(room.RoomId, room.Epoch);
            default:
                // The earlier request stopped before the room was made (a crash, a 429, a 503): it is made now.
                return null;
        }
    }

    /// <summary>
    /// What a room's <c>Idempotency-Key</c> digest covers: the validated request, its <c>ttlMinutes</c> as sent
    /// (absent is "") — not the TTL applied, which is each replica's DefaultRoomTtlMinutes when absent, so a
    /// retry answered by a replica configured otherwise is still the same request.
    /// </summary>
    private static IEnumerable<string> RequestFields(string name, IReadOnlyList<MenuItem> menu, int? ttlMinutes) =>
        [name, ttlMinutes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "",
            .. menu.SelectMany(item => new[] { item.Id, item.Name, item.PriceMinor.ToString(System.Globalization.CultureInfo.InvariantCulture) })];

    /// <summary>
    /// Gives a deleted (or not found) room's place back to the deleting key, if it holds one (<see cref="RoomDeleter"/>).
    /// Best effort: the deletion stands either way, and a place not given back now is pruned once the room's recorded
    /// expiry has passed.
    /// </summary>
    public Task ForgetDeletedAsync(string apiKeyId, string roomId) => ForgetAsync(apiKeyId, roomId, "deleted");

    private async Task HoldAsync(string apiKeyId, string roomId, TimeSpan ttl, CancellationToken cancellationToken)
    {
        try
        {
            await keyRooms.HoldAsync(apiKeyId, roomId, time.GetUtcNow() + ttl, cancellationToken);
        }
        catch (RoomException ex)
        {
            // Best effort: the room exists and the answer stands; the next retry counts it again.
            ApiLog.RoomNotCounted(logger, roomId, apiKeyId, ex.Message);
        }
    }

    /// <summary>
    /// A fresh id's place. One whose reservation failed (where writes are confirmed: not confirmed) is given back, as
    /// this request certainly made no room under that id and its retry draws another: kept, every retry would hold
    /// one more place until the room's expiry.
    /// </summary>
    private async Task<bool> TryReserveAsync(string apiKeyId, NewRoom room, TimeSpan ttl, int maxRooms, CancellationToken cancellationToken)
    {
        try
        {
            return await keyRooms.TryReserveAsync(apiKeyId, room.RoomId, time.GetUtcNow() + ttl, maxRooms, cancellationToken);
        }
        catch (RoomException)
        {
            await ForgetAsync(apiKeyId, room.RoomId, "its place could not be reserved");
            throw;
        }
    }

    private async Task ForgetAsync(string apiKeyId, string roomId, string why)
    {
        try
        {
            await keyRooms.ReleaseAsync(apiKeyId, roomId, CancellationToken.None);
        }
        catch (RoomException ex)
        {
            ApiLog.RoomNotForgotten(logger, roomId, apiKeyId, $"{why}; {ex.Message}");
        }
    }
}
