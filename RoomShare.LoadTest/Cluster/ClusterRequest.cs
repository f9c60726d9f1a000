namespace RoomShare.LoadTest.Cluster;

/// <summary>How every arm's cluster is brought up: which checkout, which RoomServer build.</summary>
/// <param name="Repo">The checkout whose eng/cluster.sh and RoomServer build are measured.</param>
/// <param name="Configuration">RoomServer build configuration (Release for figures).</param>
/// <param name="Build">Whether cluster.sh builds RoomServer first (the first arm only; later arms reuse it).</param>
/// <param name="FloorDll">RoomShare.Floor.dll, for the floor arm; null when the run has none.</param>
public sealed record ClusterRequest(string Repo, string Configuration, bool Build, string? FloorDll);
