using Portal.ApiKeys;
using Portal.Billing;

namespace Portal.Gateway;

/// <summary><c>POST /api/v1/chat/completions</c>: reads the body and hands it to <see cref="ChatGateway"/>.</summary>
public static class ChatCompletions
{
    public static async Task HandleAsync(HttpContext http, CurrentApiKey current, ChatBodyReader reader, ChatGateway gateway)
    {
        var key = current.Key;
        var (body, lease) = await reader.ReadAsync(http.Request, key.AccountId);
        using (lease)
        {
            await gateway.RunAsync(FrontDoor.ChatCompletions, new Payer(key.AccountId, key), body, http.RequestId(), new HttpCompletionSink(http.Response), http.RequestAborted);
        }
    }
}
