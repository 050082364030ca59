using Messenger.Gateway.Auth;
using Messenger.Gateway.Protocol;
using Messenger.Grains;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace Messenger.Gateway.Endpoints;

/// <summary>The caller's logged-in devices, logging one out, and deleting the account.</summary>
public static class DeviceEndpoints
{
    public static RouteGroupBuilder MapDeviceEndpoints(this RouteGroupBuilder v1)
    {
        var devices = v1.MapGroup("").WithTags("Devices");
        devices.MapGet("/devices", ListAsync).WithName("ListDevices")
            .WithSummary("The caller's logged-in devices, the calling one marked current");
        devices.MapDelete("/devices/{deviceId}", LogOutAsync).WithName("LogOutDevice")
            .WithSummary("Logs a device out: its tokens stop working on every gateway and its sockets and polls are closed")
            .ProducesProblem(StatusCodes.Status404NotFound);
        devices.MapDelete("/sessions/current", LogOutCurrentAsync).WithName("LogOut")
            .WithSummary("Logs the calling device out");
        v1.MapDelete("/me", DeleteAccountAsync).WithTags("Users").WithName("DeleteAccount")
            .WithSummary("Deletes the caller's account (the password confirms it)").ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status429TooManyRequests);
        return v1;
    }

    private static async Task<Ok<WireDeviceList>> ListAsync(HttpContext http, GrainReferences grains)
    {
        var list = await grains.User(http.User.UserId()).ListDevicesAsync();
        var current = http.User.DeviceId();
        var wire = new WireDevice[list.Count];
        for (var i = 0; i < wire.Length; i++) wire[i] = list[i].ToWire(current);
        return TypedResults.Ok(new WireDeviceList(wire));
    }

    private static async Task<NoContent> LogOutAsync(string deviceId, HttpContext http, GrainReferences grains)
    {
        await grains.User(http.User.UserId()).LogOutDeviceAsync(deviceId);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> LogOutCurrentAsync(HttpContext http, GrainReferences grains)
    {
        await grains.User(http.User.UserId()).LogOutDeviceAsync(http.User.DeviceId());
        return TypedResults.NoContent();
    }

    // An empty body reaches the check below (null), which answers as for a missing password, not with the binder's text.
    private static async Task<NoContent> DeleteAccountAsync(
        [FromBody(EmptyBodyBehavior = Microsoft.AspNetCore.Mvc.ModelBinding.EmptyBodyBehavior.Allow)] DeleteAccountRequest request,
        HttpContext http, GrainReferences grains, UsernameAttempts attempts, PasswordHashing passwords)
    {
        var password = AccountEndpoints.Required(request?.Password, "password");
        // Checked as a login is (an attempt charged to the username, the hash bounded), so a stolen token
        // is no faster way to guess the password.
        var account = await AccountEndpoints.VerifyAsync(grains, attempts, passwords, http.User.Username(), password, http.RequestAborted);
        if (account is null || account.Profile.UserId != http.User.UserId())
        {
            throw new MessengerException(ErrorCode.WrongPassword, "the password is wrong; nothing was deleted.");
        }
        await grains.User(account.Profile.UserId).DeleteAccountAsync();
        return TypedResults.NoContent();
    }
}
