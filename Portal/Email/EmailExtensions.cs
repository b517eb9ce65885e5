using Microsoft.Extensions.Options;

namespace Portal.Email;

public static class EmailExtensions
{
    /// <summary>The outbox, its sender, and the transport the settings choose: SMTP, or <c>.eml</c> files without a host.</summary>
    public static IHostApplicationBuilder AddEmail(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<EmailOptions>().BindConfiguration(EmailOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<EmailOutbox>();
        builder.Services.AddSingleton<SmtpMailTransport>();
        builder.Services.AddSingleton<EmlFolderTransport>();
        builder.Services.AddSingleton<IMailTransport>(sp => sp.GetRequiredService<IOptions<EmailOptions>>().Value.UsesSmtp
            ? sp.GetRequiredService<SmtpMailTransport>()
            : sp.GetRequiredService<EmlFolderTransport>());
        builder.Services.AddSingleton<OutboxSender>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<OutboxSender>());
        return builder;
    }
}
