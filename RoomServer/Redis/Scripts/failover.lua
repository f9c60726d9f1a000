-- failover.lua — a new epoch for a room whose master was replaced by a promoted replica (a cluster shard's
--   or a single server's failover).
-- ARGV 4 a fresh epoch (RoomIds.NewEpoch)
-- Why: a script publishes its event before Redis replicates it. A master that dies in that moment
--   has sent members events whose writes never reached its replica (those writes were answered
--   unavailable: WAIT could not confirm them), and the promoted replica reuses their versions for
--   other events. Members that saw them are ahead of the room on a history that never happened; a
--   new epoch makes each of them resync from a snapshot (Position carries the epoch; Join(since)
--   with another epoch answers a snapshot).
-- Once per promotion: meta field failoverMaster = the master_replid the epoch began under (create.lua
--   records it; a promoted replica takes a new replication id and keeps its old master's as
--   master_replid2), so the replicas that each notice the failover renew the epoch once between them, and
--   a call for a room whose master never changed changes nothing — which lets the backplane ask for every
--   room it re-checks, in every topology, even one whose subscription StackExchange.Redis had already
--   moved to the promoted replica.
-- Not a promotion: a restarted master (or one that freed its replication backlog) takes a new replication
--   id too, with no master_replid2. It lost nothing it published: Redis writes its AOF before any reply or
--   channel message leaves it, so the epoch stays and only failoverMaster follows the new id. So does a
--   room created before create.lua recorded the field.
-- Checks: room exists (room_not_found). Publishes nothing: the next Position tells the members.
-- Reply: {'ok', epoch, version, 'renewed' | 'same'} (PositionReply; the last element tells FailoverEpochs
--   whether there is a write to confirm: asked at every room subscription, in every topology, it almost never is).
if not room_exists() then return {'room_not_found'} end
local master, promoted = replication_ids()
local renewed = 'same'
if redis.call('HGET', META, 'failoverMaster') ~= master then
  if promoted then
    redis.call('HSET', META, 'epoch', ARGV[4], 'failoverMaster', master)
    touch()
    renewed = 'renewed'
  else
    -- Unconfirmed (FailoverEpochs waits only for a renewal): if a failover loses it, the room's next check
    -- on the promoted master renews, as it should.
    redis.call('HSET', META, 'failoverMaster', master)
  end
end
local meta = redis.call('HMGET', META, 'epoch', 'version')
return {'ok', meta[1], meta[2], renewed}
