using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace RoomShare.RoomServer.Auth;

/// <summary>
/// Data Protection's key ring, kept in memory. ASP.NET Core's authentication registers Data
/// Protection, whose start-up creates a key ring on disk (~/.aspnet, or the working directory when
/// there is no home) — an error on the read-only root filesystem the container runs on. Nothing here
/// protects data that must outlive the process or move between replicas (no cookies, no antiforgery:
/// JWTs and API keys), so a key ring per process is enough, and nothing is written.
/// </summary>
public sealed class ProcessLocalKeyRing : IXmlRepository
{
    private readonly List<XElement> _elements = [];
    private readonly Lock _lock = new();

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        lock (_lock)
        {
            return [.. _elements.Select(e => new XElement(e))];
        }
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        lock (_lock)
        {
            _elements.Add(new XElement(element));
        }
    }

    public static IServiceCollection AddProcessLocalKeyRing(IServiceCollection services)
    {
        services.AddDataProtection();
        services.Configure<KeyManagementOptions>(o => o.XmlRepository = new ProcessLocalKeyRing());
        return services;
    }
}
