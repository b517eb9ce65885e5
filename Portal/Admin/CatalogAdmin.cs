using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Portal.Audit;
using Portal.Catalog;
using Portal.Data;

namespace Portal.Admin;

public sealed record ModelRow(string Id, IReadOnlyList<string> Aliases, string OwnedBy, bool SupportsTools, bool SupportsJsonMode,
    bool SupportsStructuredOutputs, bool SupportsReasoning, bool AlwaysReasons, int MaxOutputTokens, int ContextLength, long InputPriceMicros, long OutputPriceMicros,
    bool Enabled, int Upstreams, long? CachedInputPriceMicros = null);

/// <summary>A model as the editor shows it: prices as USD text per 1M tokens, aliases comma-separated.</summary>
public sealed class ModelForm
{
    public string Id { get; set; } = "";
    public string Aliases { get; set; } = "";
    public string OwnedBy { get; set; } = "";
    public bool SupportsTools { get; set; }
    public bool SupportsJsonMode { get; set; } = true;
    public bool SupportsStructuredOutputs { get; set; }
    public bool SupportsReasoning { get; set; }
    public bool AlwaysReasons { get; set; }
    public string MaxOutputTokens { get; set; } = "8192";
    public string ContextLength { get; set; } = "128000";
    public string InputPrice { get; set; } = "";
    public string OutputPrice { get; set; } = "";
    /// <summary>Blank: cached prompt tokens cost the input price.</summary>
    public string CachedInputPrice { get; set; } = "";
    public string ImagePartTokens { get; set; } = MediaDefaults.ImagePartTokens.ToString(CultureInfo.InvariantCulture);
    public string FilePartTokens { get; set; } = MediaDefaults.OtherPartTokens.ToString(CultureInfo.InvariantCulture);
    public string AudioPartTokens { get; set; } = MediaDefaults.OtherPartTokens.ToString(CultureInfo.InvariantCulture);
    public string VideoPartTokens { get; set; } = MediaDefaults.OtherPartTokens.ToString(CultureInfo.InvariantCulture);
    /// <summary>Blank: keys without their own limit are not limited in tokens per minute on this model (ADR 33).</summary>
    public string TokensPerMinute { get; set; } = "";
    public bool Enabled { get; set; } = true;
}

/// <summary>The models and prices editor. Saves reach the gateway at once here and within a second elsewhere.</summary>
public sealed partial class CatalogAdmin(IDbContextFactory<PortalDbContext> dbFactory, ModelCatalog catalog, AuditLog audit, TimeProvider time)
{
    public const int MaxTokensLimit = 10_000_000;

    public async Task<IReadOnlyList<ModelRow>> ListAsync(AdminCaller caller, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var models = await db.Models.AsNoTracking().Include(m => m.Upstreams).ToListAsync(cancellationToken);
        return models.OrderBy(m => m.Id, StringComparer.Ordinal)
            .Select(m => new ModelRow(m.Id, SplitAliases(m.Aliases), m.OwnedBy, m.SupportsTools, m.SupportsJsonMode, m.SupportsStructuredOutputs,
                m.SupportsReasoning, m.AlwaysReasons, m.MaxOutputTokens, m.ContextLength, m.InputPriceMicros, m.OutputPriceMicros, m.Enabled, m.Upstreams.Count, m.CachedInputPriceMicros))
            .ToList();
    }

    public async Task<ModelForm?> FormForAsync(AdminCaller caller, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var m = await db.Models.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id, cancellationToken);
        return m is null ? null : new ModelForm
        {
            Id = m.Id,
            Aliases = string.Join(", ", SplitAliases(m.Aliases)),
            OwnedBy = m.OwnedBy,
            SupportsTools = m.SupportsTools,
            SupportsJsonMode = m.SupportsJsonMode,
            SupportsStructuredOutputs = m.SupportsStructuredOutputs,
            SupportsReasoning = m.SupportsReasoning,
            AlwaysReasons = m.AlwaysReasons,
            MaxOutputTokens = m.MaxOutputTokens.ToString(CultureInfo.InvariantCulture),
            ContextLength = m.ContextLength.ToString(CultureInfo.InvariantCulture),
            InputPrice = UsdInput.Format(m.InputPriceMicros),
            OutputPrice = UsdInput.Format(m.OutputPriceMicros),
            CachedInputPrice = m.CachedInputPriceMicros is { } cached ? UsdInput.Format(cached) : "",
            ImagePartTokens = m.ImagePartTokens.ToString(CultureInfo.InvariantCulture),
            FilePartTokens = m.FilePartTokens.ToString(CultureInfo.InvariantCulture),
            AudioPartTokens = m.AudioPartTokens.ToString(CultureInfo.InvariantCulture),
            VideoPartTokens = m.VideoPartTokens.ToString(CultureInfo.InvariantCulture),
            TokensPerMinute = m.TokensPerMinute is { } tpm ? tpm.ToString(CultureInfo.InvariantCulture) : "",
            Enabled = m.Enabled,
        };
    }

    /// <summary>Adds a model (<paramref name="isNew"/>) or updates the one with the form's id.</summary>
    public async Task<EditResult> SaveAsync(AdminCaller caller, ModelForm form, bool isNew, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(caller);
        var id = form.Id.Trim();
        var aliases = SplitAliases(form.Aliases);
        var errors = Validate(form, id, aliases, out var limits, out var prices);
        var media = MediaBounds(form, errors);
        if (!ApiKeys.KeyForm.TryParseTokensPerMinute(form.TokensPerMinute.Replace(",", "", StringComparison.Ordinal), out var tokensPerMinute, out var tpmError))
        {
            errors[nameof(ModelForm.TokensPerMinute)] = tpmError.Replace("each model's default", "no limit", StringComparison.Ordinal);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var tx = await db.Database.BeginTransactionAsync(cancellationToken);
        var model = await db.Models.FirstOrDefaultAsync(m => m.Id == id, cancellationToken);
        if (isNew && model is not null)
        {
            errors.TryAdd(nameof(ModelForm.Id), $"There is already a model '{id}'.");
        }
        else if (!isNew && model is null)
        {
            return EditResult.Refused($"There is no model '{id}' any more; reload the page.");
        }

        // Ids and aliases share one namespace (the gateway looks both up, ignoring case).
        var others = (await db.Models.Where(m => m.Id != id).Select(m => new { m.Id, m.Aliases }).ToListAsync(cancellationToken))
            .SelectMany(m => SplitAliases(m.Aliases).Select(a => (Name: a, Model: m.Id)).Append((Name: m.Id, Model: m.Id)))
            .ToList();
        if (others.FirstOrDefault(o => o.Name.Equals(id, StringComparison.OrdinalIgnoreCase)) is { Model: not null } idClash)
        {
            errors.TryAdd(nameof(ModelForm.Id), $"'{id}' is already an alias of {idClash.Model}.");
        }

        foreach (var alias in aliases)
        {
            if (others.FirstOrDefault(o => o.Name.Equals(alias, StringComparison.OrdinalIgnoreCase)) is { Model: not null } clash)
            {
                errors.TryAdd(nameof(ModelForm.Aliases), $"'{alias}' already names {clash.Model}; each alias may belong to one model only.");
            }
        }

        if (errors.Count > 0)
        {
            return EditResult.Invalid(errors);
        }

        var before = model is null ? null : Describe(model);
        if (model is null)
        {
            model = new CatalogModel { Id = id, OwnedBy = "", CreatedAt = time.GetUtcNow().UtcDateTime };
            db.Models.Add(model);
        }

        model.Aliases = string.Join(',', aliases);
        model.OwnedBy = form.OwnedBy.Trim();
        model.SupportsTools = form.SupportsTools;
        model.SupportsJsonMode = form.SupportsJsonMode;
        model.SupportsStructuredOutputs = form.SupportsStructuredOutputs;
        model.SupportsReasoning = form.SupportsReasoning;
        model.AlwaysReasons = form.AlwaysReasons;
        (model.MaxOutputTokens, model.ContextLength) = limits;
        (model.InputPriceMicros, model.OutputPriceMicros, model.CachedInputPriceMicros) = prices;
        (model.ImagePartTokens, model.FilePartTokens, model.AudioPartTokens, model.VideoPartTokens) = media;
        model.TokensPerMinute = tokensPerMinute;
        model.Enabled = form.Enabled;
        await db.SaveChangesAsync(cancellationToken);

        var after = Describe(model);
        var changed = after.Where(p => before is not null && !Equals(before[p.Key], p.Value))
            .ToDictionary(p => p.Key, p => new[] { before![p.Key], p.Value });
        if (before is not null && changed.Count == 0)
        {
            return EditResult.Success($"{id} had no changes to save.");
        }

        object details = before is null ? after : new { changed };
        await audit.AppendAsync(db, caller.Actor, before is null ? AuditActions.ModelCreate : AuditActions.ModelUpdate, $"model:{id}", details, cancellationToken);
        await tx.CommitAsync(cancellationToken);
        catalog.Invalidate();
        return EditResult.Success(before is null ? $"Added {id}." : $"Saved {id}.");
    }

    private static Dictionary<string, string> Validate(ModelForm form, string id, IReadOnlyList<string> aliases,
        out (int MaxOutput, int Context) limits, out (long Input, long Output, long? CachedInput) prices)
    {
        var errors = new Dictionary<string, string>();
        if (!ModelId().IsMatch(id))
        {
            errors[nameof(ModelForm.Id)] = "An id is 1–128 letters, digits, '.', '-', '_' or ':', starting with a letter or digit (e.g. glm-5.2).";
        }

        var badAlias = aliases.FirstOrDefault(a => !Alias().IsMatch(a));
        if (badAlias is not null)
        {
            errors[nameof(ModelForm.Aliases)] = $"'{badAlias}' is not a valid alias: use letters, digits, '.', '-', '_', ':' or '/' (e.g. zhipu/glm-5).";
        }
        else if (aliases.GroupBy(a => a, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1 || g.Key.Equals(id, StringComparison.OrdinalIgnoreCase)) is { } repeated)
        {
            errors[nameof(ModelForm.Aliases)] = $"'{repeated.Key}' is listed twice (or is the model's own id).";
        }
        else if (string.Join(',', aliases).Length > 1024)
        {
            errors[nameof(ModelForm.Aliases)] = "The aliases are too long together (at most 1024 characters).";
        }

        if (form.OwnedBy.Trim() is not { Length: > 0 and <= 128 })
        {
            errors[nameof(ModelForm.OwnedBy)] = "Say who provides the model (e.g. zhipu), in at most 128 characters.";
        }

        limits = (TokenCount(form.MaxOutputTokens), TokenCount(form.ContextLength));
        if (limits.MaxOutput == 0)
        {
            errors[nameof(ModelForm.MaxOutputTokens)] = $"Max output tokens must be a whole number from 1 to {MaxTokensLimit:#,0}.";
        }

        if (limits.Context == 0)
        {
            errors[nameof(ModelForm.ContextLength)] = $"The context length must be a whole number from 1 to {MaxTokensLimit:#,0}.";
        }
        else if (limits.MaxOutput > limits.Context)
        {
            errors.TryAdd(nameof(ModelForm.MaxOutputTokens), "Max output tokens cannot exceed the context length.");
        }

        if (form.AlwaysReasons && !form.SupportsReasoning)
        {
            errors[nameof(ModelForm.AlwaysReasons)] = "A model that always reasons supports reasoning too: tick \"Reasoning\" as well.";
        }

        if (!UsdInput.TryParse(form.InputPrice, out prices.Input) || prices.Input < 0)
        {
            errors[nameof(ModelForm.InputPrice)] = PriceError;
        }

        if (!UsdInput.TryParse(form.OutputPrice, out prices.Output) || prices.Output < 0)
        {
            errors[nameof(ModelForm.OutputPrice)] = PriceError;
        }

        prices.CachedInput = null;
        if (!string.IsNullOrWhiteSpace(form.CachedInputPrice))
        {
            if (!UsdInput.TryParse(form.CachedInputPrice, out var cached) || cached < 0)
            {
                errors[nameof(ModelForm.CachedInputPrice)] = PriceError + " Leave it blank to charge cached tokens the input price.";
            }
            else if (!errors.ContainsKey(nameof(ModelForm.InputPrice)) && cached > prices.Input)
            {
                // The hold prices the whole prompt at the input price; a dearer cached token could
                // cost more than it held (ADR 25). Providers' cache prices are discounts anyway.
                errors[nameof(ModelForm.CachedInputPrice)] = "The cached-input price cannot be above the input price: cached tokens are a discount on input.";
            }
            else
            {
                prices.CachedInput = cached;
            }
        }

        return errors;
    }

    /// <summary>The tokens the hold counts per image, file, audio and video part (ADR 13).</summary>
    private static (int Image, int File, int Audio, int Video) MediaBounds(ModelForm form, Dictionary<string, string> errors)
    {
        int Bound(string text, string field, string what)
        {
            var n = TokenCount(text);
            if (n == 0)
            {
                errors[field] = $"The tokens held per {what} must be a whole number from 1 to {MaxTokensLimit:#,0}.";
            }

            return n;
        }

        return (Bound(form.ImagePartTokens, nameof(ModelForm.ImagePartTokens), "image"),
            Bound(form.FilePartTokens, nameof(ModelForm.FilePartTokens), "file"),
            Bound(form.AudioPartTokens, nameof(ModelForm.AudioPartTokens), "audio part"),
            Bound(form.VideoPartTokens, nameof(ModelForm.VideoPartTokens), "video"));
    }

    /// <summary>A positive whole number of tokens up to the limit, or 0 for anything else.</summary>
    private static int TokenCount(string text) =>
        int.TryParse(text.Trim(), NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= MaxTokensLimit ? n : 0;

    private const string PriceError = "Enter a price in USD per 1M tokens, 0 or more, such as 2.50 (at most 6 decimals).";

    private static IReadOnlyList<string> SplitAliases(string aliases) =>
        aliases.Split([',', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static Dictionary<string, object> Describe(CatalogModel m) => new()
    {
        ["aliases"] = m.Aliases,
        ["ownedBy"] = m.OwnedBy,
        ["tools"] = m.SupportsTools,
        ["jsonMode"] = m.SupportsJsonMode,
        ["structuredOutputs"] = m.SupportsStructuredOutputs,
        ["reasoning"] = m.SupportsReasoning,
        ["alwaysReasons"] = m.AlwaysReasons,
        ["maxOutputTokens"] = m.MaxOutputTokens,
        ["contextLength"] = m.ContextLength,
        ["inputUsdPer1M"] = UsdInput.Format(m.InputPriceMicros),
        ["outputUsdPer1M"] = UsdInput.Format(m.OutputPriceMicros),
        ["cachedInputUsdPer1M"] = m.CachedInputPriceMicros is { } cached ? UsdInput.Format(cached) : "same as input",
        ["imagePartTokens"] = m.ImagePartTokens,
        ["filePartTokens"] = m.FilePartTokens,
        ["audioPartTokens"] = m.AudioPartTokens,
        ["videoPartTokens"] = m.VideoPartTokens,
        ["tokensPerMinute"] = m.TokensPerMinute is { } tpm ? (object)tpm : "no limit",
        ["enabled"] = m.Enabled,
    };

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
    private static partial Regex ModelId();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$")]
    private static partial Regex Alias();
}
