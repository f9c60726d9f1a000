using Scalar.AspNetCore;

namespace RoomShare.RoomServer.Api;

public static class ApiReference
{
    /// <summary>An interactive API reference on the OpenAPI document at <c>/scalar/v1</c>, in Development only.</summary>
    public static WebApplication MapApiReference(this WebApplication app)
    {
        if (app.Environment.IsDevelopment())
        {
            app.MapScalarApiReference();
        }

        return app;
    }
}
