using System.Globalization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Portal.Audit;
using Portal.Catalog;
using Portal.Data;
using Portal.Gateway;

namespace Portal.Admin;

/// <summary>An upstream as listed: whether a key is set, never the key.</summary>
/// <param name="MessagesBaseUrl">The provider's Anthropic Messages base, if Messages requests are forwarded natively (ADR 35).</param>
public sealed record UpstreamRow(int Id, string ModelId, string BaseUrl, string UpstreamModel, bool HasKey, int Priority, int TimeoutSeconds, bool Enabled, string? MessagesBaseUrl = null);

/// <summary>
/// An upstream as the editor submits it. <see cref="ApiKey"/> is write-only: blank keeps the stored
/// key (or stores none on a new upstream); the stored key is never put back into a form.
/// </summary>
public sealed class UpstreamForm
{
    public int? Id { get; set; }
    public string ModelId { get; set; } = "";
    public string BaseUrl { get; set; } = "";
    public string UpstreamModel { get; set; } = "";
    /// <summary>Blank: Messages requests are translated onto chat completions at <see cref="BaseUrl"/>.</summary>
    public string MessagesBaseUrl { get; set; } = "";
    public string ApiKey { get; set; } = "";
    public bool RemoveKey { get; set; }
    public string Priority { get; set; } = "0";
    public string TimeoutSeconds { get; set; } = "120";
    public bool Enabled { get; set; } = true;
}

/// <summary>Upstreams per model. Keys are encrypted with the gateway's protector before they reach the store.</summary>
public sealed class UpstreamAdmin(IDbContextFactory<PortalDbContext> dbFactory, IDataProtectionProvider protection, ModelCatalog catalog, AuditLog audit)
{
    public async Task<IReadOnlyList<UpstreamRow>> ListAsync(AdminCaller caller, string modelId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ModelUpstreams.Where(u => u.ModelId == modelId).OrderBy(u => u.Priority).ThenBy(u => u.Id)
            .Select(u => new UpstreamRow(u.Id, u.ModelId, u.BaseUrl, u.UpstreamModel, u.ProtectedApiKey != null, u.Priority, u.TimeoutSeconds, u.Enabled, u.MessagesBaseUrl))
            .ToListAsync(cancellationToken);
    }

    /// <summary>The form for an existing upstream, with the key field empty.</summary>
    public async Task<UpstreamForm?> FormForAsync(AdminCaller caller, int id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ModelUpstreams.Where(u => u.Id == id)
            .Select(u => new UpstreamForm
            {
                Id = u.Id,
                ModelId = u.ModelId,
                BaseUrl = u.BaseUrl,
                UpstreamModel = u.UpstreamModel,
                MessagesBaseUrl = u.MessagesBaseUrl ?? "",
                Priority = u.Priority.ToString(CultureInfo.InvariantCulture),
                TimeoutSeconds = u.TimeoutSeconds.ToString(CultureInfo.InvariantCulture),
                Enabled = u.Enabled,
            })
            .FirstOrDefaultAsync(cancellationToken);
    }

    public async Task<EditResult> SaveAsync(AdminCaller caller, UpstreamForm form, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var errors = Validate(form, out var baseUrl, out var messagesBaseUrl, out var priority, out var timeout);
        var key = form.ApiKey.Trim();
        // Encrypted before the transaction: the first use of Data Protection writes its key ring to
        // the store, which on SQLite would wait forever behind this transaction's write lock.
        var protectedKey = key.Length > 0 ? protection.CreateProtector(HttpUpstream.ProtectorPurpose).Protect(key) : null;

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await db.Models.AnyAsync(m => m.Id == form.ModelId, cancellationToken))
        {
            return EditResult.Refused($"There is no model '{form.ModelId}' in the catalog.");
        }

        ModelUpstream? upstream = null;
        if (form.Id is { } id && (upstream = await db.ModelUpstreams.FirstOrDefaultAsync(u => u.Id == id && u.ModelId == form.ModelId, cancellationToken)) is null)
        {
            return EditResult.Refused($"Upstream {id} of {form.ModelId} no longer exists; reload the page.");
        }

        if (errors.Count > 0)
        {
            return EditResult.Invalid(errors);
        }

        var isNew = upstream is null;
        upstream ??= db.ModelUpstreams.Add(new ModelUpstream { ModelId = form.ModelId, BaseUrl = "", UpstreamModel = "" }).Entity;
        var keyChange = key.Length > 0 ? "set" : form.RemoveKey && upstream.ProtectedApiKey is not null ? "removed" : "unchanged";
        upstream.BaseUrl = baseUrl;
        upstream.UpstreamModel = form.UpstreamModel.Trim();
        upstream.MessagesBaseUrl = messagesBaseUrl;
        upstream.Priority = priority;
        upstream.TimeoutSeconds = timeout;
        upstream.Enabled = form.Enabled;
        if (keyChange == "set")
        {
            upstream.ProtectedApiKey = protectedKey;
        }
        else if (keyChange == "removed")
        {
            upstream.ProtectedApiKey = null;
        }

        await db.SaveChangesAsync(cancellationToken);
        await audit.AppendAsync(db, caller.Actor, isNew ? AuditActions.UpstreamCreate : AuditActions.UpstreamUpdate, $"upstream:{upstream.Id}", new
        {
            model = upstream.ModelId,
            baseUrl = upstream.BaseUrl,
            upstreamModel = upstream.UpstreamModel,
            messagesBaseUrl = upstream.MessagesBaseUrl,
            priority = upstream.Priority,
            timeoutSeconds = upstream.TimeoutSeconds,
            enabled = upstream.Enabled,
            key = isNew && keyChange == "unchanged" ? "none" : keyChange,
        }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        catalog.Invalidate();
        return EditResult.Success(isNew
            ? $"Added upstream {upstream.Id}: {form.ModelId} is served by {upstream.UpstreamModel} at {upstream.BaseUrl}."
            : $"Saved upstream {upstream.Id}.");
    }

    public async Task<EditResult> DeleteAsync(AdminCaller caller, int id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var upstream = await db.ModelUpstreams.FirstOrDefaultAsync(u => u.Id == id, cancellationToken);
        if (upstream is null)
        {
            return EditResult.Refused($"There is no upstream {id}.");
        }

        db.ModelUpstreams.Remove(upstream);
        await db.SaveChangesAsync(cancellationToken);
        await audit.AppendAsync(db, caller.Actor, AuditActions.UpstreamDelete, $"upstream:{id}",
            new { model = upstream.ModelId, baseUrl = upstream.BaseUrl, upstreamModel = upstream.UpstreamModel }, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        catalog.Invalidate();
        return EditResult.Success($"Removed upstream {id} of {upstream.ModelId}.");
    }

    /// <summary>The stored key in plain text, for the connection test only.</summary>
    internal async Task<(UpstreamRow Row, string? Key)?> ForConnectionTestAsync(AdminCaller caller, int id, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var u = await db.ModelUpstreams.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id, cancellationToken);
        return u is null
            ? null
            : (new UpstreamRow(u.Id, u.ModelId, u.BaseUrl, u.UpstreamModel, u.ProtectedApiKey != null, u.Priority, u.TimeoutSeconds, u.Enabled, u.MessagesBaseUrl),
               u.ProtectedApiKey is null ? null : protection.CreateProtector(HttpUpstream.ProtectorPurpose).Unprotect(u.ProtectedApiKey));
    }

    private static Dictionary<string, string> Validate(UpstreamForm form, out string baseUrl, out string? messagesBaseUrl, out int priority, out int timeout)
    {
        var errors = new Dictionary<string, string>();
        baseUrl = BaseUrl(form.BaseUrl.Trim(), nameof(UpstreamForm.BaseUrl), "the provider's http(s) base URL, such as https://api.example.com/v1", errors) ?? "";
        messagesBaseUrl = form.MessagesBaseUrl.Trim() is { Length: > 0 } messages
            ? BaseUrl(messages, nameof(UpstreamForm.MessagesBaseUrl), "the provider's http(s) Anthropic Messages base URL, such as https://api.deepseek.com/anthropic, or leave it empty", errors)
            : null;

        if (form.UpstreamModel.Trim() is not { Length: > 0 and <= 256 })
        {
            errors[nameof(UpstreamForm.UpstreamModel)] = "Enter the model's name at the provider (e.g. glm-5), at most 256 characters.";
        }

        var key = form.ApiKey.Trim();
        if (key.Length > 4096 || key.Any(char.IsWhiteSpace))
        {
            errors[nameof(UpstreamForm.ApiKey)] = "An API key has no spaces and is at most 4096 characters.";
        }
        else if (key.Length > 0 && form.RemoveKey)
        {
            errors[nameof(UpstreamForm.ApiKey)] = "Either enter a new key or remove the key, not both.";
        }

        if (!int.TryParse(form.Priority.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out priority) || priority > 1000)
        {
            errors[nameof(UpstreamForm.Priority)] = "Priority is a whole number from 0 to 1000; lower is tried first.";
        }

        if (!int.TryParse(form.TimeoutSeconds.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out timeout) || timeout is < 1 or > 3600)
        {
            errors[nameof(UpstreamForm.TimeoutSeconds)] = "The timeout is a whole number of seconds from 1 to 3600.";
        }

        return errors;
    }

    /// <summary>An absolute http(s) URL without credentials, query or fragment, at most 2048 characters, without its trailing slash.</summary>
    private static string? BaseUrl(string url, string field, string expected, Dictionary<string, string> errors)
    {
        if (url.Length > 2048)
        {
            errors[field] = "The base URL is longer than 2048 characters.";
        }
        else if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
        {
            errors[field] = $"Enter {expected}.";
        }
        else if (uri.UserInfo.Length > 0 || uri.Query.Length > 0 || uri.Fragment.Length > 0)
        {
            // Credentials in a URL end up in logs and pages; the key field keeps them encrypted.
            errors[field] = "The base URL must not contain a user name, password, query or fragment; put the key in the API key field.";
        }
        else
        {
            return uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        }

        return null;
    }
}
