namespace RoomShare.RoomServer.Tests.Chaos;

/// <summary>
/// The chaos battery's classes run one after another, and alone: xunit starts this collection only
/// once every parallel collection has finished, so the battery's load (three clusters' worth of
/// faults and floods) never slows another suite's timing-sensitive tests, nor theirs the battery.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ChaosCollection
{
    public const string Name = "Chaos battery";
}
