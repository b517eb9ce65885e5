using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Portal.Data;
using Portal.Email;

namespace Portal.Alerts;

/// <summary>
/// Posts one webhook row of the outbox (ADR 26), signed at the moment of sending, so its timestamp is
/// fresh on every retry. Any answer but 2xx is a failure the outbox retries with its backoff; a
/// webhook removed or changed since the event was queued, or an address that turns out to be inside
/// Portal's network, fails for good. No redirects are followed and no proxy is used: the address
/// checked is the address connected to.
/// </summary>
public sealed class WebhookSender(IHttpClientFactory httpFactory, IDbContextFactory<PortalDbContext> dbFactory, Webhooks webhooks, TimeProvider time)
{
    public const string HttpClientName = "webhooks";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    public async Task SendAsync(OutboxMessage row, CancellationToken cancellationToken)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var current = await db.AlertSettings.AsNoTracking().Where(a => a.UserId == row.UserId)
                .Select(a => new { a.WebhookUrl, a.ProtectedWebhookSecret }).FirstOrDefaultAsync(cancellationToken);
            if (current?.WebhookUrl != row.To || current.ProtectedWebhookSecret is null)
            {
                throw new PermanentDeliveryException("The account's webhook was removed or changed after this event was queued.");
            }

            using var request = new HttpRequestMessage(HttpMethod.Post, row.To) { Content = new StringContent(row.Body, Encoding.UTF8, "application/json") };
            request.Headers.Add(WebhookSignature.Header, WebhookSignature.Sign(webhooks.Unprotect(current.ProtectedWebhookSecret), time.GetUtcNow().ToUnixTimeSeconds(), row.Body));
            request.Headers.Add("Portal-Event", row.Subject);
            request.Headers.Add("Portal-Delivery", row.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            HttpResponseMessage response;
            try
            {
                response = await httpFactory.CreateClient(HttpClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            }
            catch (HttpRequestException e) when (e.InnerException is InwardAddressException inward)
            {
                throw new PermanentDeliveryException(inward.Message, e);
            }

            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    throw new HttpRequestException($"The webhook answered HTTP {(int)response.StatusCode}.");
                }
            }
        }
    }

    /// <summary>Outside Development: connects only to public addresses, whatever the name resolved to (<see cref="WebhookAddress"/>).</summary>
    internal static async ValueTask<Stream> ConnectPubliclyAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        var allowed = addresses.Where(WebhookAddress.IsPublic).ToArray();
        if (allowed.Length == 0 || allowed.Length != addresses.Length)
        {
            throw new InwardAddressException($"{host} resolves to an address inside Portal's network; webhooks go to public addresses only.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private sealed class InwardAddressException(string message) : Exception(message);
}
